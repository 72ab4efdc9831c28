// The report page's only script: the question table, drawn from the JSON rows, filtered and
// sorted here in the page. Rows have one fixed height and only those in view (and a screen
// either side) are in the page, between two spacers: ten thousand rows scroll like a hundred.
// Cells are filled with textContent only.
(function () {
  "use strict";
  var OVERSCAN = 15;
  var data = JSON.parse(document.getElementById("pearl-rows").textContent);
  var rows = data.rows;
  var tbody = document.getElementById("rows-body");
  var wrap = document.getElementById("rows-wrap");
  var count = document.getElementById("row-count");
  var controls = ["f-method", "f-outcome", "f-fallback", "f-text"].map(function (id) { return document.getElementById(id); });
  var sortCol = -1, sortDir = 1;
  var naturally = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  var list = [], rowHeight = 0, drawnFirst = -1, drawnLast = -1, pending = false;
  // Columns: 0 id, 1 method, 2 type, 3 score, 4 outcome, 5 fallback, 6 prompt tokens, 7 calls, 8 seconds, 9 answer, 10 gold, 11 page

  function cell(tr, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    tr.appendChild(td);
    return td;
  }

  function rowElement(r) {
    var tr = document.createElement("tr");
    if (r[4] === "error") tr.className = "error";
    var first = document.createElement("td");
    first.className = "text";
    if (r[11]) {
      var a = document.createElement("a");
      a.href = r[11];
      a.textContent = r[0];
      first.appendChild(a);
    } else {
      first.textContent = r[0];
    }
    first.title = r[0];
    tr.appendChild(first);
    cell(tr, r[1], "text");
    cell(tr, r[2], "text");
    cell(tr, r[4], "text " + r[4]);
    cell(tr, (100 * r[3]).toFixed(1));
    cell(tr, r[6].toLocaleString("en"));
    cell(tr, String(r[7]));
    cell(tr, r[8].toFixed(2)).title = r[8].toFixed(2) + " s";  // a time the column cuts can be read whole
    cell(tr, r[5] ? "fallback" : "", "text");
    cell(tr, r[9], "text long").title = r[9];
    cell(tr, r[10], "text long").title = r[10];
    return tr;
  }

  function spacer() {
    var tr = document.createElement("tr");
    tr.className = "spacer";
    var td = document.createElement("td");
    td.colSpan = 11;
    tr.appendChild(td);
    return tr;
  }

  var top = spacer(), bottom = spacer();

  function matching() {
    var method = controls[0].value, outcome = controls[1].value, fallback = controls[2].value;
    var text = controls[3].value.trim().toLowerCase();
    var out = rows.filter(function (r) {
      if (method && r[1] !== method) return false;
      if (outcome && r[4] !== outcome) return false;
      if (fallback && String(r[5]) !== fallback) return false;
      if (text && (r[0] + "\n" + r[9] + "\n" + r[10]).toLowerCase().indexOf(text) < 0) return false;
      return true;
    });
    if (sortCol >= 0) {
      out.sort(function (a, b) {
        var x = a[sortCol], y = b[sortCol];
        // Text in natural order, numbers within it by value: doc1:2 before doc1:10.
        if (typeof x === "string" && typeof y === "string") return naturally.compare(x, y) * sortDir;
        return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
      });
    }
    return out;
  }

  function rowsBetween(from, to) {
    var frag = document.createDocumentFragment();
    for (var i = from; i < to; i++) frag.appendChild(rowElement(list[i]));
    return frag;
  }

  // Draws rows [first, last) of the list: only the rows that came into range are made, only
  // those that left it removed, so scrolling costs what it shows.
  function window_() {
    var height = rowHeight || 30;
    var first = Math.max(0, Math.floor(wrap.scrollTop / height) - OVERSCAN);
    var last = Math.min(list.length, Math.ceil((wrap.scrollTop + wrap.clientHeight) / height) + OVERSCAN);
    if (first === drawnFirst && last === drawnLast) return;
    if (drawnFirst < 0 || first >= drawnLast || last <= drawnFirst) {
      tbody.textContent = "";
      tbody.appendChild(top);
      tbody.appendChild(rowsBetween(first, last));
      tbody.appendChild(bottom);
    } else {
      for (var k = drawnFirst; k < first; k++) tbody.removeChild(top.nextSibling);
      for (k = last; k < drawnLast; k++) tbody.removeChild(bottom.previousSibling);
      if (first < drawnFirst) tbody.insertBefore(rowsBetween(first, drawnFirst), top.nextSibling);
      if (last > drawnLast) tbody.insertBefore(rowsBetween(drawnLast, last), bottom);
    }
    drawnFirst = first;
    drawnLast = last;
    top.firstChild.style.height = first * height + "px";
    bottom.firstChild.style.height = (list.length - last) * height + "px";
    top.hidden = first === 0;
    bottom.hidden = last === list.length;
  }

  function draw() {
    list = matching();
    count.textContent = list.length + " of " + rows.length + " rows";
    drawnFirst = drawnLast = -1;
    wrap.scrollTop = 0;
    window_();
    if (!rowHeight && tbody.rows.length > 1) {
      rowHeight = tbody.rows[1].getBoundingClientRect().height;
      drawnFirst = -1;
      window_();
    }
  }

  // Printed, every row that matches: the table draws only the rows in view.
  window.addEventListener("beforeprint", function () {
    tbody.textContent = "";
    tbody.appendChild(rowsBetween(0, list.length));
    drawnFirst = drawnLast = -1;
  });
  window.addEventListener("afterprint", function () { window_(); });

  wrap.addEventListener("scroll", function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      window_();
    });
  });
  controls.forEach(function (c) { c.addEventListener("input", draw); c.addEventListener("change", draw); });
  // Each column's name is a button (Tab reaches it, Enter or Space sorts); the sorted column says its order.
  var headers = document.querySelectorAll("th.sortable");
  Array.prototype.forEach.call(headers, function (th) {
    th.addEventListener("click", function () {
      var col = parseInt(th.getAttribute("data-col"), 10);
      sortDir = col === sortCol ? -sortDir : 1;
      sortCol = col;
      Array.prototype.forEach.call(headers, function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      draw();
    });
  });
  draw();
  performance.mark("pearl-first-rows");
  document.body.setAttribute("data-ready", "1");
})();
