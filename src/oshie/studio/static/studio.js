// oshie studio: the little script the writing pages need, and nothing else.
// - live audit: the draft is sent to /api/check (debounced) and findings are listed, with
//   their spans highlighted in a preview under the field;
// - autosave of the draft in this browser (localStorage) and Ctrl+Enter to save;
// - nothing of this fires while an input method is composing (compositionstart ..
//   compositionend): half-converted kana would only produce noise.
"use strict";
(function () {
  const DEBOUNCE_MS = 600;
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  function setupForm(form) {
    let composing = false;
    let timer = null;
    let seq = 0;
    const aside = form.parentElement.querySelector(".audit");
    const list = aside && aside.querySelector(".findings");
    const status = aside && aside.querySelector(".audit-status");
    const key = form.dataset.autosave ? "oshie-studio:" + form.dataset.autosave : null;
    const fields = Array.from(form.querySelectorAll("textarea[data-check]"));
    const value = (name) => { const el = form.elements[name]; return el ? el.value : ""; };

    function render(findings) {
      list.replaceChildren();
      form.parentElement.querySelectorAll(".preview").forEach((p) => p.replaceChildren());
      status.textContent = findings.length ? "" : status.dataset.none;
      const marks = {};
      for (const f of findings) {
        const li = document.createElement("li");
        li.className = "finding " + f.severity;
        li.dataset.check = f.check;
        const label = document.createElement("strong");
        label.textContent = f.label || f.check;
        const code = document.createElement("code");
        code.textContent = f.check;
        li.append(label, " ", code, " " + f.message);
        if (f.span) {
          const q = document.createElement("q");
          q.textContent = value(f.span.field).slice(f.span.start, f.span.end);
          li.append(" ", q);
          (marks[f.span.field] = marks[f.span.field] || []).push(f);
        }
        list.append(li);
      }
      // overlapping spans: the text is cut at every span boundary, and each piece is marked
      // with all the checks whose spans cover it
      for (const [field, found] of Object.entries(marks)) {
        const preview = form.querySelector('.preview[data-for="' + field + '"]');
        if (!preview) continue;
        const text = value(field);
        const cuts = new Set([0, text.length]);
        for (const f of found) { cuts.add(Math.min(f.span.start, text.length)); cuts.add(Math.min(f.span.end, text.length)); }
        const points = Array.from(cuts).sort((a, b) => a - b);
        for (let i = 0; i + 1 < points.length; i++) {
          const [a, b] = [points[i], points[i + 1]];
          const covering = found.filter((f) => f.span.start <= a && f.span.end >= b);
          if (!covering.length) { preview.append(text.slice(a, b)); continue; }
          const mark = document.createElement("mark");
          mark.className = covering.some((f) => f.severity === "error") ? "error" : "warning";
          mark.dataset.check = covering.map((f) => f.check).join(" ");
          mark.textContent = text.slice(a, b);
          preview.append(mark);
        }
      }
    }

    async function check() {
      if (composing || !list) return;
      const mine = ++seq;
      status.textContent = status.dataset.checking;
      const body = {};
      for (const name of ["instruction", "input", "answer", "question_id", "answer_id"]) body[name] = value(name);
      const response = await fetch("/api/check", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify(body),
      });
      if (mine !== seq || composing || !response.ok) return; // a newer draft is on its way
      render((await response.json()).findings);
    }

    function save() {
      if (key) localStorage.setItem(key, JSON.stringify(Object.fromEntries(fields.map((f) => [f.name, f.value]))));
    }

    function changed() {
      if (composing) return;
      clearTimeout(timer);
      timer = setTimeout(() => { save(); check(); }, DEBOUNCE_MS);
    }

    for (const el of fields) {
      el.addEventListener("compositionstart", () => { composing = true; clearTimeout(timer); });
      el.addEventListener("compositionend", () => { composing = false; changed(); });
      el.addEventListener("input", (e) => { if (!e.isComposing) changed(); });
    }
    form.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.isComposing && !composing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", () => { if (key) localStorage.removeItem(key); });
    if (key) {
      const saved = JSON.parse(localStorage.getItem(key) || "null");
      if (saved) for (const el of fields) if (!el.value && saved[el.name]) el.value = saved[el.name];
    }
    if (fields.some((f) => f.value.trim())) check();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-audit]").forEach(setupForm);
  });
})();
