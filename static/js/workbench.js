// Keyboard shortcuts for the workbench. Any element with data-shortcut="x" is
// clicked when x is pressed outside a text field; a reason's key (data-key)
// toggles it. Choosing a decision (f / l, or a reason of one kind) shows only
// the reasons that fit it.
(function () {
  "use strict";

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  // A decision is sent once: a double tap (or a held key) would otherwise post
  // it twice, and the second post lands on a 409 instead of the next case.
  let decided = false;
  window.addEventListener("pageshow", function () { decided = false; });

  // Show only the reasons that fit `value` ("" shows them all).
  function filterReasons(container, value) {
    if (!container) return;
    container.dataset.mode = value;
    container.querySelectorAll("label[data-applies]").forEach(function (label) {
      const fits = !value || label.dataset.applies === value || label.dataset.applies === "any";
      label.hidden = !fits;
      if (!fits) label.querySelector("input").checked = false;
    });
  }

  function hint(text) {
    const el = document.getElementById("decision-hint");
    el.textContent = text;
    el.classList.add("error");
  }

  function decide(button) {
    if (decided) return false;
    const form = document.getElementById("decision-form");
    const reasons = document.getElementById("decision-reasons");
    const value = button.dataset.decision;
    const checked = Array.from(form.querySelectorAll('input[name="reasons"]:checked'));
    const note = document.getElementById("decision-note").value.trim();
    if (value !== "escalate") {
      const misfit = checked.find(function (input) {
        const applies = input.closest("label").dataset.applies;
        return applies !== "any" && applies !== value;
      });
      if (misfit) {
        hint("“" + misfit.closest("label").textContent.trim() + "” does not fit " + value + ": untick it or choose the other decision.");
        return false;
      }
      if (checked.length === 0) {
        filterReasons(reasons, value);
        hint("Reasons for " + value + ": press their keys, then " + (value === "fraud" ? "f" : "l") + " again or Enter.");
        return false;
      }
    }
    if (value === "escalate" && note === "") {
      hint("Write a note saying why you escalate.");
      document.getElementById("decision-note").focus();
      return false;
    }
    document.getElementById("decision-value").value = value;
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

  // Ticking a fraud (or legitimate) reason picks that decision's list.
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (input.name === "value" && input.closest("#override-form")) {
      filterReasons(input.closest("form"), input.value);
      return;
    }
    const reasons = input.closest("#decision-reasons");
    if (!reasons || input.name !== "reasons") return;
    const applies = input.closest("label").dataset.applies;
    if (input.checked && applies !== "any") filterReasons(reasons, applies);
    if (!reasons.querySelector("input:checked")) filterReasons(reasons, "");
  });

  document.addEventListener("submit", function (event) {
    const message = event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  document.addEventListener("keydown", function (event) {
    if (event.repeat) return;
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const reasons = document.getElementById("decision-reasons");
    if (event.key === "/") {
      const search = document.querySelector('input[name="q"]');
      if (search) { event.preventDefault(); search.focus(); }
      return;
    }
    if (event.key === "Escape" && reasons) {
      filterReasons(reasons, "");
      return;
    }
    if (event.key === "Enter" && reasons && reasons.dataset.mode) {
      event.preventDefault();
      decide(document.querySelector('[data-decision="' + reasons.dataset.mode + '"]'));
      return;
    }
    const reason = document.querySelector('input[name="reasons"][data-key="' + event.key + '"]');
    if (reason && !reason.closest("label").hidden) {
      reason.checked = !reason.checked;
      reason.dispatchEvent(new Event("change", { bubbles: true }));
      return;
    }
    const target = document.querySelector('[data-shortcut="' + event.key + '"]');
    if (!target) return;
    event.preventDefault();
    if (target.dataset.decision) decide(target);
    else target.click();
  });

  // Snooze: opening the menu proposes one hour from now and focuses the time.
  document.addEventListener("toggle", function (event) {
    const menu = event.target;
    if (menu.id !== "snooze" || !menu.open) return;
    const until = document.getElementById("snooze-until");
    if (!until.value) {
      const later = new Date(Date.now() + 3600 * 1000 - new Date().getTimezoneOffset() * 60000);
      until.value = later.toISOString().slice(0, 16);
    }
    until.focus();
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    // On a phone the queue's filters would fill the first screen: fold them
    // unless one is in use.
    const panel = document.querySelector("details.filter-panel");
    if (panel && window.matchMedia("(max-width: 760px)").matches) {
      const used = Array.from(panel.querySelectorAll("input, select")).some(function (field) {
        return field.name !== "status" && field.value !== "";
      });
      if (!used) panel.open = false;
    }
    const override = document.getElementById("override-value");
    if (override) filterReasons(override.closest("form"), override.value);
    // The undo offer counts down and disappears when its window closes.
    const bar = document.getElementById("undo-bar");
    if (bar) {
      let left = parseInt(bar.dataset.seconds, 10);
      const shown = bar.querySelector(".undo-seconds");
      const tick = setInterval(function () {
        left -= 1;
        shown.textContent = left;
        if (left <= 0) { clearInterval(tick); bar.remove(); }
      }, 1000);
    }
  });
})();
