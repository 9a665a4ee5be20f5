// Usage page filters: picking a date switches the range to "Dates below",
// so that the dates are what the next "Show" applies.
document.addEventListener("change", (event) => {
  const input = event.target.closest("#usage-filters input[type=date]");
  if (!input) return;
  const range = document.getElementById("range");
  if (range) range.value = "custom";
});
