// Keyboard shortcuts for the workbench. Any element with data-shortcut="x" is
// clicked when x is pressed outside a text field; number keys toggle reasons.
(function () {
  "use strict";

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  // A decision is sent once: a double tap (or a held key) would otherwise post
  // it twice, and the second post lands on a 409 instead of the next case.
  let decided = false;
  window.addEventListener("pageshow", function () { decided = false; });

  function decide(button) {
    if (decided) return false;
    const form = document.getElementById("decision-form");
    const value = button.dataset.decision;
    document.getElementById("decision-value").value = value;
    const chosen = form.querySelectorAll('input[name="reasons"]:checked').length;
    const note = document.getElementById("decision-note").value.trim();
    const hint = document.getElementById("decision-hint");
    if (value !== "escalate" && chosen === 0) {
      hint.textContent = "Pick at least one reason first (keys 1–9).";
      hint.classList.add("error");
      return false;
    }
    if (value === "escalate" && note === "") {
      hint.textContent = "Write a note saying why you escalate.";
      hint.classList.add("error");
      document.getElementById("decision-note").focus();
      return false;
    }
    decided = true;
    form.requestSubmit();
    return true;
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-decision]");
    if (button) {
      event.preventDefault();
      decide(button);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.repeat) return;
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.key === "/") {
      const search = document.querySelector('input[name="q"]');
      if (search) { event.preventDefault(); search.focus(); }
      return;
    }
    const reason = document.querySelector('input[name="reasons"][data-key="' + event.key + '"]');
    if (reason) {
      reason.checked = !reason.checked;
      return;
    }
    const target = document.querySelector('[data-shortcut="' + event.key + '"]');
    if (!target) return;
    event.preventDefault();
    if (target.dataset.decision) decide(target);
    else target.click();
  });
  // On a phone the queue's filters would fill the first screen: fold them
  // unless one is in use.
  document.addEventListener("DOMContentLoaded", function () {
    const panel = document.querySelector("details.filter-panel");
    if (!panel || !window.matchMedia("(max-width: 760px)").matches) return;
    const used = Array.from(panel.querySelectorAll("input, select")).some(function (field) {
      return field.name !== "status" && field.value !== "";
    });
    if (!used) panel.open = false;
  });
})();
