// Search forms submit only the fields that are filled in, so a result page's
// address stays short enough to read and bookmark (?q=priya, not ?q=priya&created_from=&…).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("form.search-form")) return;
  for (const field of form.elements) {
    if (field.name && field.value === "") field.disabled = true;
  }
});
// Coming back with the Back button shows the page as it was left: enable the fields again.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form.search-form [disabled]").forEach((field) => {
    field.disabled = false;
  });
});
