// The report page's only script: the question table, drawn from the JSON rows in chunks
// (a few hundred per frame) so a run of thousands of rows opens at once, and filtered and
// sorted here in the page. Cells are filled with textContent only.
(function () {
  "use strict";
  var CHUNK = 300;
  var data = JSON.parse(document.getElementById("pearl-rows").textContent);
  var rows = data.rows;
  var tbody = document.getElementById("rows-body");
  var count = document.getElementById("row-count");
  var controls = ["f-method", "f-outcome", "f-fallback", "f-text"].map(function (id) { return document.getElementById(id); });
  var sortCol = -1, sortDir = 1, generation = 0;
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
    tr.appendChild(first);
    cell(tr, r[1], "text");
    cell(tr, r[2], "text");
    cell(tr, r[4], "text " + r[4]);
    cell(tr, (100 * r[3]).toFixed(1));
    cell(tr, r[6].toLocaleString("en"));
    cell(tr, String(r[7]));
    cell(tr, r[8].toFixed(2));
    cell(tr, r[5] ? "fallback" : "", "text");
    cell(tr, r[9], "answer-cell");
    cell(tr, r[10], "answer-cell");
    return tr;
  }

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
        return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
      });
    }
    return out;
  }

  function draw() {
    var mine = ++generation;
    var list = matching();
    tbody.textContent = "";
    count.textContent = list.length + " of " + rows.length + " rows";
    var at = 0;
    function next() {
      if (mine !== generation) return; // a newer filter took over
      var frag = document.createDocumentFragment();
      var end = Math.min(list.length, at + CHUNK);
      for (; at < end; at++) frag.appendChild(rowElement(list[at]));
      tbody.appendChild(frag);
      if (at === CHUNK || (at === list.length && at <= CHUNK)) performance.mark("pearl-first-rows");
      if (at < list.length) requestAnimationFrame(next);
      else {
        performance.mark("pearl-rows-done");
        document.body.setAttribute("data-ready", "1");
      }
    }
    next();
  }

  controls.forEach(function (c) { c.addEventListener("input", draw); });
  Array.prototype.forEach.call(document.querySelectorAll("th.sortable"), function (th) {
    th.addEventListener("click", function () {
      var col = parseInt(th.getAttribute("data-col"), 10);
      sortDir = col === sortCol ? -sortDir : 1;
      sortCol = col;
      draw();
    });
  });
  draw();
})();
