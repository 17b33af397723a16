// Segmentation editor and list uploads. Plain ES module, no build step.
//
// - [data-remove-condition="id"] removes that condition row; adding a row
//   (htmx) or choosing a program's levels fires "conditions-changed" so the
//   live count (htmx, see segmentation_form.html) follows.
// - form[data-upload] sends its file with XMLHttpRequest to show how much
//   of it went up, then opens the upload's progress page. Without this
//   script the form posts normally and lands on the same page.

const doc = document;

function conditionsChanged() {
  doc.body.dispatchEvent(new CustomEvent("conditions-changed", { bubbles: true }));
}

doc.addEventListener("click", (e) => {
  const btn = e.target.closest("[data-remove-condition]");
  if (!btn) return;
  const row = doc.getElementById(btn.dataset.removeCondition);
  if (!row) return;
  const next = row.nextElementSibling?.querySelector("select, input") ?? doc.getElementById("add-type");
  row.remove();
  next?.focus();
  conditionsChanged();
});

doc.addEventListener("htmx:afterSwap", (e) => {
  const target = e.detail.target;
  if (target.id === "conditions") {
    const rows = target.querySelectorAll(".condition");
    rows[rows.length - 1]?.querySelector("select, input:not([type=hidden])")?.focus();
    conditionsChanged();
  } else if (target.classList?.contains("levels")) {
    conditionsChanged();
  }
});

/* ------------------------------------------------------------ uploads */

function showError(form, message) {
  const field = form.querySelector('input[type="file"]')?.closest(".field");
  if (!field) return;
  field.classList.add("has-error");
  let p = field.querySelector(".field-error");
  if (!p) {
    p = doc.createElement("p");
    p.className = "field-error";
    p.id = "e-file";
    field.querySelector("input").after(p);
  }
  p.textContent = message;
  field.querySelector("input").setAttribute("aria-invalid", "true");
  field.querySelector("input").focus();
}

doc.addEventListener("submit", (e) => {
  const form = e.target;
  if (!form.matches("form[data-upload]") || e.defaultPrevented) return;
  const file = form.querySelector('input[type="file"]');
  if (!file?.files?.length) return; // nothing to watch: post normally
  e.preventDefault();
  const box = form.querySelector(".upload-progress");
  const bar = box?.querySelector("progress");
  const text = box?.querySelector(".upload-progress-text");
  const submit = form.querySelector('button[type="submit"]');
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", (p) => {
    if (!p.lengthComputable || !bar) return;
    const pct = Math.round((100 * p.loaded) / p.total);
    bar.value = pct;
    text.textContent = pct < 100 ? `Sending the file: ${pct}%` : "Sent; checking the file…";
  });
  xhr.addEventListener("load", () => {
    let body = {};
    try {
      body = JSON.parse(xhr.responseText);
    } catch {
      body = {};
    }
    if (xhr.status < 300 && body.location) {
      window.location.assign(body.location);
      return;
    }
    if (box) box.hidden = true;
    submit.disabled = false;
    showError(form, body.error || "The upload failed. Please try again.");
  });
  const failed = (msg) => () => {
    if (box) box.hidden = true;
    submit.disabled = false;
    showError(form, msg);
  };
  xhr.addEventListener("error", failed("The connection broke off during the upload. The list is unchanged; please try again."));
  xhr.addEventListener("abort", failed("Upload cancelled. The list is unchanged."));
  box?.querySelector("[data-abort-upload]")?.addEventListener("click", () => xhr.abort(), { once: true });
  if (box) box.hidden = false;
  if (text) text.textContent = "Sending the file…";
  submit.disabled = true;
  xhr.send(new FormData(form));
});
