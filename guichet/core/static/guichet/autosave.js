/* Forms saved as one types (data-autosave, see portal_tags.autosave_form).
 *
 * htmx posts the form in the background on each change and swaps in only the save status
 * (#autosave-status), so that nothing typed meanwhile is overwritten. The server saves the
 * valid fields and lists the invalid ones in the status ([data-error-for]); this script shows
 * each error next to its field, with the markup django-dsfr renders on a full page, and warns
 * before leaving the page while a change is not saved yet (typed but not yet sent, or refused).
 */
(function () {
  "use strict";

  var GROUPS = ["fr-input-group", "fr-select-group", "fr-checkbox-group"];
  var state = new WeakMap(); // form -> {edits, sent, saved, invalid, submitting}

  function forms() {
    return Array.prototype.slice.call(document.querySelectorAll("form[data-autosave]"));
  }

  function statusErrors() {
    var errors = {};
    var status = document.getElementById("autosave-status");
    if (!status) {
      return errors;
    }
    status.querySelectorAll("[data-error-for]").forEach(function (item) {
      var id = item.getAttribute("data-error-for");
      (errors[id] = errors[id] || []).push(item.getAttribute("data-message"));
    });
    return errors;
  }

  function groupOf(field) {
    var group = field.parentElement;
    while (group && group.tagName !== "FORM") {
      for (var i = 0; i < GROUPS.length; i += 1) {
        if (group.classList.contains(GROUPS[i])) {
          return {element: group, base: GROUPS[i]};
        }
      }
      group = group.parentElement;
    }
    return null;
  }

  function showError(field, messages) {
    var group = groupOf(field);
    if (!group) {
      return;
    }
    var errorId = field.id + "-desc-error";
    var previous = document.getElementById(errorId);
    if (previous) {
      previous.remove();
    }
    group.element.classList.toggle(group.base + "--error", messages.length > 0);
    if (!messages.length) {
      field.removeAttribute("aria-invalid");
      if (field.getAttribute("aria-describedby") === errorId) {
        field.removeAttribute("aria-describedby");
      }
      return;
    }
    var container = document.createElement("div");
    container.id = errorId;
    var list = document.createElement("ul");
    list.className = "errorlist";
    messages.forEach(function (message) {
      var item = document.createElement("li");
      item.className = "fr-error-text";
      item.textContent = message;
      list.appendChild(item);
    });
    container.appendChild(list);
    group.element.appendChild(container);
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", errorId);
  }

  function showErrors(form) {
    var errors = statusErrors();
    form.querySelectorAll("input[id], select[id], textarea[id]").forEach(function (field) {
      if (field.type !== "hidden") {
        showError(field, errors[field.id] || []);
      }
    });
    return Object.keys(errors).length;
  }

  function track(form) {
    if (state.has(form)) {
      return;
    }
    var invalid = Object.keys(statusErrors()).length > 0; // a page shown with its errors
    var current = {edits: 0, sent: 0, saved: invalid ? -1 : 0, submitting: false};
    state.set(form, current);
    form.addEventListener("input", function () { current.edits += 1; });
    form.addEventListener("change", function () { current.edits += 1; });
    form.addEventListener("submit", function () { current.submitting = true; });
  }

  function unsaved(form) {
    var current = state.get(form);
    return Boolean(current) && !current.submitting && current.edits !== current.saved;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var current = state.get(event.detail.elt);
    if (current) {
      current.sent = current.edits;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    var current = state.get(form);
    if (!current || !event.detail.successful) {
      return;
    }
    var invalid = showErrors(form);
    // Saved up to what was sent, unless a field was refused: it stays "not saved".
    current.saved = invalid ? -1 : current.sent;
  });

  window.addEventListener("beforeunload", function (event) {
    if (forms().some(unsaved)) {
      event.preventDefault();
      event.returnValue = ""; // older browsers show the dialog only when this is set
    }
  });

  function start() {
    forms().forEach(track);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  document.addEventListener("htmx:load", start);
}());
