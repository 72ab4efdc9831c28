// The answer page's only script. The document arrives as JSON (sentences, the space after
// each, paragraph numbers) and is drawn in chunks of a few thousand characters, each only
// when it scrolls near the view, so a million-word document opens at once. Text is only
// ever set with textContent: nothing from the document can become markup.
(function () {
  "use strict";
  var CHUNK_CHARS = 6000;
  var AHEAD = "2500px 0px";
  // Without a script a link's #S12 lands on the evidence list's item (its empty target); with one, on the sentence
  // in the document drawn below, which takes the id (helper-217: without a script every link did nothing).
  document.querySelectorAll(".nojs-target").forEach(function (el) { el.removeAttribute("id"); });
  var doc = JSON.parse(document.getElementById("pearl-document").textContent);
  var pane = document.getElementById("docpane");
  var body = document.getElementById("doc-body");
  var marked = null;
  var chunks = [];
  var partAt = {};
  var headings = new Set(doc ? doc.headings : []);
  var code = new Set(doc && doc.code ? doc.code : []);
  var cited = new Set(doc ? doc.cited : []);
  var used = new Set(doc ? doc.used : []);

  function mark(el) {
    if (marked) marked.classList.remove("marked");
    marked = el;
    el.classList.add("marked");
  }

  function planChunks() {
    var n = doc.sentences.length, first = 0, chars = 0, i;
    for (i = 0; i < n; i++) {
      var newPara = i > 0 && doc.paragraphs[i] !== doc.paragraphs[i - 1];
      if (i > first && ((newPara && chars >= CHUNK_CHARS) || chars >= 4 * CHUNK_CHARS || partAt[i] !== undefined)) {
        chunks.push({ first: first, last: i - 1, chars: chars, el: null, done: false });
        first = i;
        chars = 0;
      }
      chars += doc.sentences[i].length + doc.gaps[i].length;
    }
    if (n > 0) chunks.push({ first: first, last: n - 1, chars: chars, el: null, done: false });
  }

  // A heading is its own sentence in bold, not its paragraph: "1. Term." heading a clause made the clause bold too
  // (helper-217).
  function sentenceClass(i) {
    return "s" + (headings.has(i) ? " h" : "") + (cited.has(i) ? " cited" : used.has(i) ? " used" : "");
  }

  function renderChunk(c) {
    if (c.done) return;
    var frag = document.createDocumentFragment();
    var p = null;
    for (var i = c.first; i <= c.last; i++) {
      if (partAt[i] !== undefined) {
        var h = document.createElement("h3");
        h.textContent = partAt[i];
        frag.appendChild(h);
        p = null;
      }
      if (p === null || doc.paragraphs[i] !== doc.paragraphs[i - 1]) {
        p = document.createElement("p");
        // Its own direction, from its first letter: sentences are isolated, so this orders them (right to left
        // in a Hebrew or Arabic paragraph).
        p.dir = "auto";
        if (code.has(i)) p.className = "code";
        frag.appendChild(p);
      }
      var s = document.createElement("span");
      s.className = sentenceClass(i);
      s.id = "S" + i;
      s.title = "S" + i;
      s.textContent = doc.sentences[i];
      p.appendChild(s);
      if (doc.gaps[i]) p.appendChild(document.createTextNode(doc.gaps[i]));
    }
    c.el.textContent = "";
    c.el.appendChild(frag);
    c.el.style.height = "";
    c.done = true;
  }

  function chunkOf(sid) {
    var lo = 0, hi = chunks.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (chunks[mid].first <= sid) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  function scrollPaneTo(el) {
    if (getComputedStyle(pane).position === "sticky") {
      var top = el.getBoundingClientRect().top - pane.getBoundingClientRect().top;
      pane.scrollTop += top - pane.clientHeight / 2;
    } else {
      el.scrollIntoView({ block: "center" });
    }
  }

  // Without the document, where the sentence's text is on the page: the evidence list, or else an excerpt list
  // holding it (the clicked link's own, if it is in one), opened.
  function shownItem(sid, link) {
    var item = document.getElementById("cite-S" + sid);
    if (item) return item;
    var own = link && link.closest(".excerpt-list li");
    if (own) return own;
    var other = document.querySelector('.excerpt-list a.cite[data-sid="' + sid + '"]');
    return other ? other.closest("li") : null;
  }

  function goTo(sid, link) {
    if (!doc || !(sid >= 0 && sid < doc.sentences.length)) {
      var item = shownItem(sid, link);
      if (item) {
        var box = item.closest("details");
        if (box) box.open = true;
        mark(item);
        item.scrollIntoView({ block: "center" });
      }
      return;
    }
    var k = chunkOf(sid);
    // The neighbours too, so what surrounds the sentence is text, not an estimated height.
    for (var j = Math.max(0, k - 1); j <= Math.min(chunks.length - 1, k + 1); j++) renderChunk(chunks[j]);
    var el = document.getElementById("S" + sid);
    mark(el);
    scrollPaneTo(el);
  }

  function step(direction) {
    var list = doc.cited.length ? doc.cited : doc.used;
    if (!list.length) return;
    var current = marked && marked.id && marked.id.charAt(0) === "S" ? parseInt(marked.id.slice(1), 10) : -1;
    var next = direction > 0 ? list.find(function (x) { return x > current; }) : undefined;
    if (direction < 0) {
      for (var i = list.length - 1; i >= 0; i--) if (list[i] < current) { next = list[i]; break; }
    }
    goTo(next === undefined ? list[direction > 0 ? 0 : list.length - 1] : next);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.cite") : null;
    if (!link) return;
    event.preventDefault();
    goTo(parseInt(link.getAttribute("data-sid"), 10), link);
  });

  if (doc && body) {
    doc.parts.forEach(function (part) { partAt[part[0]] = part[1]; });
    planChunks();
    var frag = document.createDocumentFragment();
    chunks.forEach(function (c) {
      c.el = document.createElement("div");
      c.el.className = "chunk";
      frag.appendChild(c.el);
    });
    body.appendChild(frag);
    if (chunks.length) {
      renderChunk(chunks[0]);
      performance.mark("pearl-first-sentence");
      // Unrendered chunks hold the height their text will take, measured on the first one.
      var perChar = chunks[0].el.offsetHeight / Math.max(1, chunks[0].chars);
      for (var i = 1; i < chunks.length; i++) chunks[i].el.style.height = Math.max(24, Math.round(chunks[i].chars * perChar)) + "px";
      var observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (!entry.isIntersecting) return;
          var c = chunks[parseInt(entry.target.getAttribute("data-chunk"), 10)];
          renderChunk(c);
          observer.unobserve(entry.target);
        });
      }, { root: pane, rootMargin: AHEAD });
      chunks.forEach(function (c, k) {
        if (c.done) return;
        c.el.setAttribute("data-chunk", String(k));
        observer.observe(c.el);
      });
    }
    // Printed, the whole document: the chunks not yet scrolled to would print as blank space.
    window.addEventListener("beforeprint", function () { chunks.forEach(renderChunk); });
    document.getElementById("doc-nav").hidden = false;  // buttons that need the script, shown by it
    document.getElementById("prev-cite").addEventListener("click", function () { step(-1); });
    document.getElementById("next-cite").addEventListener("click", function () { step(1); });
  }
  // The sentence a link's #S40 opens on lands below the document's sticky header, however tall it is (page.css).
  function headHeight() {
    var head = pane && pane.querySelector(".doc-head");
    if (head) document.documentElement.style.setProperty("--doc-head", head.offsetHeight + "px");
  }
  headHeight();
  window.addEventListener("resize", headHeight);
  var wanted = /^#S(\d+)$/.exec(location.hash);
  if (wanted) goTo(parseInt(wanted[1], 10));
  document.body.setAttribute("data-ready", "1");
})();
