// Live total of a purchase form, no build step:
//   <form data-total> with number inputs carrying data-price (minor units)
//   and data-currency, and an element [data-total-out] for the sum.
// The server computes the real price again; this is only what people see
// before sending.

function format(cents, currency) {
  const whole = Math.trunc(cents / 100).toLocaleString("en-GB");
  return `${currency} ${whole}.${String(Math.abs(cents % 100)).padStart(2, "0")}`;
}

function update(form) {
  const sums = new Map();
  for (const input of form.querySelectorAll("input[data-price]")) {
    const n = Number(input.value);
    if (!Number.isInteger(n) || n <= 0) continue;
    const cur = input.dataset.currency;
    sums.set(cur, (sums.get(cur) ?? 0) + n * Number(input.dataset.price));
  }
  const out = form.querySelector("[data-total-out]");
  if (!out) return;
  out.textContent = sums.size === 0
    ? "—"
    : [...sums.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([c, v]) => format(v, c)).join(" + ");
}

function init(root) {
  for (const form of root.querySelectorAll("form[data-total]")) {
    if (form.dataset.totalReady) continue;
    form.dataset.totalReady = "1";
    form.addEventListener("input", () => update(form));
    update(form);
  }
}

init(document);
document.addEventListener("htmx:load", (e) => init(e.target));
