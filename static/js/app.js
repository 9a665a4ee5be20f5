// Small behaviours that need no framework. Kept in a file so the Content
// Security Policy can forbid inline scripts.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copyTarget);
  if (source && navigator.clipboard) {
    navigator.clipboard.writeText(source.textContent.trim()).then(() => {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }
});

document.addEventListener("click", (event) => {
  if (!event.target.closest("[data-print]")) return;
  event.preventDefault();
  window.print();
});

// The account switcher submits as soon as another account is chosen; its button stays for keyboards without scripts.
document.addEventListener("change", (event) => {
  const select = event.target.closest(".account-switcher select");
  if (select) select.form.requestSubmit();
});
