// A "Copy" button beside each read-only field marked data-copy. Without JavaScript the field stays, and its
// text can be selected and copied by hand: the button only saves a step.
document.querySelectorAll("input[data-copy]").forEach((field) => {
  if (!navigator.clipboard) return;
  const button = document.createElement("button");
  const label = document.documentElement.lang === "en" ? "Copy" : "Copier";
  const done = document.documentElement.lang === "en" ? "Copied" : "Copié";
  button.type = "button";
  button.className = "secondary";
  button.textContent = label;
  const status = document.createElement("span");
  status.setAttribute("role", "status");
  status.className = "muted";
  button.addEventListener("click", () => {
    navigator.clipboard.writeText(field.value).then(() => {
      status.textContent = " " + done;
    });
  });
  field.after(" ", button, status);
});
