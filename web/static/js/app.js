// Regulars UI behaviour. Plain ES module, no build step:
//   <script type="module" src="/static/js/app.js"></script>
//
// - .drawer-toggle toggles body.drawer-open; Escape, the backdrop or a
//   drawer link closes it.
// - form[data-confirm], button[data-confirm] (and a[data-confirm]) ask for
//   confirmation in a native <dialog class="confirm"> first. Optional
//   data-confirm-label sets the confirm button's text; a trigger with class
//   .btn-danger gets a red confirm button. htmx requests are covered too,
//   including htmx-triggered elements with data-confirm (htmx:confirm).
// - .flash messages get a close button; data-autodismiss="6" hides one
//   after that many seconds.
// - details.user-menu closes on outside click and Escape.
// - An element with data-module="<URL of an ES module>" is handed to the
//   module's init(element) once, on page load and after htmx swaps (boosted
//   pages do not re-run module scripts, so pages load theirs this way).

const doc = document;
const body = doc.body;

/* ---------------------------------------------------------------- drawer */

function setDrawer(open) {
  body.classList.toggle("drawer-open", open);
  for (const btn of doc.querySelectorAll(".drawer-toggle")) {
    btn.setAttribute("aria-expanded", String(open));
  }
}

function isDrawerOpen() {
  return body.classList.contains("drawer-open");
}

doc.addEventListener("click", (e) => {
  const toggle = e.target.closest(".drawer-toggle");
  if (toggle) {
    setDrawer(!isDrawerOpen());
    if (isDrawerOpen()) doc.querySelector(".drawer a, .drawer button")?.focus();
    return;
  }
  // Backdrop (body::after) clicks land on <body>; drawer links navigate away.
  if (isDrawerOpen() && (e.target === body || e.target.closest(".drawer a"))) {
    setDrawer(false);
  }
  // Close open user menus when clicking elsewhere.
  for (const d of doc.querySelectorAll("details.user-menu[open]")) {
    if (!d.contains(e.target)) d.open = false;
  }
});

doc.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || doc.querySelector("dialog[open]")) return;
  if (isDrawerOpen()) {
    setDrawer(false);
    doc.querySelector(".drawer-toggle")?.focus();
  }
  for (const d of doc.querySelectorAll("details.user-menu[open]")) {
    d.open = false;
    d.querySelector("summary")?.focus();
  }
});

// Leaving the narrow layout with the drawer open must not leave it "open".
matchMedia("(min-width: 900px)").addEventListener("change", (e) => {
  if (e.matches) setDrawer(false);
});

/* --------------------------------------------------------------- confirm */

let dialog;

function confirmDialog(message, { label = "Confirm", danger = false } = {}) {
  if (!dialog) {
    dialog = doc.createElement("dialog");
    dialog.className = "confirm";
    dialog.setAttribute("aria-labelledby", "confirm-message");
    dialog.innerHTML =
      '<form method="dialog">' +
      '<p class="confirm-message" id="confirm-message"></p>' +
      '<div class="confirm-actions">' +
      '<button class="btn btn-secondary" value="cancel" autofocus>Cancel</button>' +
      '<button class="btn" value="confirm" data-ok></button>' +
      "</div></form>";
    // A click on the backdrop lands on the <dialog> itself: treat as Cancel.
    dialog.addEventListener("click", (e) => {
      if (e.target === dialog) dialog.close("cancel");
    });
    // An Enter still held from what opened the dialog (sending a message)
    // must not answer it.
    dialog.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.repeat) e.preventDefault();
    });
    body.append(dialog);
  }
  const ok = dialog.querySelector("[data-ok]");
  dialog.querySelector(".confirm-message").textContent = message;
  ok.textContent = label;
  ok.className = "btn " + (danger ? "btn-danger" : "btn-primary");
  dialog.returnValue = "";
  const previous = doc.activeElement;

  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        const yes = dialog.returnValue === "confirm";
        if (!yes && previous?.isConnected) previous.focus();
        resolve(yes);
      },
      { once: true },
    );
    dialog.showModal();
    dialog.querySelector('[value="cancel"]').focus();
  });
}

function optionsFor(...els) {
  const el = els.find((x) => x?.dataset.confirmLabel) ?? null;
  return {
    label: el?.dataset.confirmLabel || "Confirm",
    danger: els.some((x) => x?.classList.contains("btn-danger")),
  };
}

// Set while a confirmed action is replayed, so it passes straight through.
let replaying = false;

function replay(fn) {
  replaying = true;
  try {
    fn();
  } finally {
    replaying = false;
  }
}

// Buttons and links with data-confirm (also hx-* ones: htmx sees the click
// only after confirmation).
window.addEventListener(
  "click",
  (e) => {
    if (replaying || e.button !== 0) return;
    const el = e.target.closest("button[data-confirm], a[data-confirm], input[type=submit][data-confirm]");
    if (!el || el.disabled) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    confirmDialog(el.dataset.confirm, optionsFor(el)).then((yes) => {
      if (yes && el.isConnected) replay(() => el.click());
    });
  },
  true,
);

// Forms with data-confirm (submitted by any button or by Enter).
window.addEventListener(
  "submit",
  (e) => {
    const form = e.target;
    if (replaying || !form.matches("form[data-confirm]")) return;
    const submitter = e.submitter;
    e.preventDefault();
    e.stopImmediatePropagation();
    confirmDialog(form.dataset.confirm, optionsFor(submitter, form)).then((yes) => {
      if (!yes || !form.isConnected) return;
      replay(() => {
        if (form.requestSubmit) form.requestSubmit(submitter?.form === form ? submitter : null);
        else form.submit();
      });
    });
  },
  true,
);

// htmx requests from other triggers (change, keyup, load…) on elements with
// data-confirm, and hx-confirm if present.
doc.addEventListener("htmx:confirm", (e) => {
  if (replaying) return;
  const { elt, triggeringEvent, question } = e.detail;
  const submitter = triggeringEvent?.submitter;
  const source = [submitter, elt].find((x) => x?.dataset?.confirm);
  const message = source?.dataset.confirm || question;
  if (!message) return;
  e.preventDefault();
  confirmDialog(message, optionsFor(submitter, elt)).then((yes) => {
    if (yes) e.detail.issueRequest(true);
  });
});

/* ---------------------------------------------------------------- flashes */

function dismiss(flash) {
  const focusWasInside = flash.contains(doc.activeElement);
  flash.remove();
  if (focusWasInside) doc.querySelector("main")?.focus({ preventScroll: true });
}

function enhance(root) {
  const flashes = [...root.querySelectorAll(".flash")];
  if (root.matches?.(".flash")) flashes.push(root);
  for (const flash of flashes) {
    if (flash.dataset.enhanced) continue;
    flash.dataset.enhanced = "1";
    if (!flash.querySelector(".flash-close")) {
      const btn = doc.createElement("button");
      btn.type = "button";
      btn.className = "flash-close";
      btn.setAttribute("aria-label", "Dismiss message");
      btn.innerHTML = '<span aria-hidden="true">&times;</span>';
      flash.append(btn);
    }
    if ("autodismiss" in flash.dataset) {
      const seconds = Number(flash.dataset.autodismiss) || 6;
      setTimeout(() => {
        // Don't yank it away from someone reading or focused on it.
        if (!flash.matches(":hover, :focus-within")) dismiss(flash);
      }, seconds * 1000);
    }
  }
}

doc.addEventListener("click", (e) => {
  const btn = e.target.closest(".flash-close");
  if (btn) dismiss(btn.closest(".flash"));
});

/* ----------------------------------------------------------- page modules */

function loadModules(root) {
  const els = [...(root.querySelectorAll?.("[data-module]") ?? [])];
  if (root.matches?.("[data-module]")) els.push(root);
  for (const el of els) {
    if (el.dataset.moduleStarted) continue;
    el.dataset.moduleStarted = "1";
    import(el.dataset.module)
      .then((m) => m.init?.(el))
      .catch((err) => console.error("module", el.dataset.module, err));
  }
}

// After a form sent through htmx (boosted), the keyboard goes on where
// the page says: to the first field refused, else to what the address
// points at (what was just saved: a redirect to a #fragment comes as
// HX-Location, and htmx scrolls to it), else to the page's content,
// where the flash saying what happened is; not to <body>, at the top.
// afterSettle fires for each element swapped in: once a request.
const settled = new WeakSet();
doc.addEventListener("htmx:afterSettle", (e) => {
  const d = e.detail;
  const verb = d.requestConfig?.verb;
  const anchor = d.pathInfo?.anchor;
  if (!d.xhr || settled.has(d.xhr)) return;
  if (!(d.boosted && verb !== "get") && !(verb === "get" && anchor && !d.boosted)) return;
  settled.add(d.xhr);
  const invalid = doc.querySelector('#main [aria-invalid="true"]');
  const target = anchor && doc.getElementById(anchor);
  const to = invalid || target || doc.getElementById("main");
  if (!to) return;
  if (to === target && to.tabIndex < 0 && !to.hasAttribute("tabindex")) to.setAttribute("tabindex", "-1");
  to.focus({ preventScroll: to !== invalid });
});

doc.addEventListener("htmx:load", (e) => {
  enhance(e.target);
  loadModules(e.target);
});
enhance(doc);
loadModules(doc);

export { confirmDialog, setDrawer };
