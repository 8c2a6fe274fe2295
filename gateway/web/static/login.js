// shelfsense sign-in: post the form as JSON, then go to ?next= (a path on this site only).
import { languagePicker, t } from "/static/i18n.js";

const form = document.getElementById("login");
document.getElementById("lang-pick").append(languagePicker());
const message = document.getElementById("message");
const submit = document.getElementById("submit");

function nextPage() {
  const next = new URLSearchParams(window.location.search).get("next") || "/";
  // Only a local path: "//evil.example" or "https://..." would be an open redirect.
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

function show(text) {
  message.textContent = text;
  message.hidden = !text;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = form.elements.name.value.trim();
  const password = form.elements.password.value;
  if (!name || !password) {
    show(t("login.enter_both"));
    return;
  }
  submit.disabled = true;
  show("");
  try {
    const response = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name, password }),
      credentials: "same-origin",
    });
    if (response.ok) {
      window.location.assign(nextPage());
      return;
    }
    const body = await response.json().catch(() => ({}));
    show(response.status === 401 ? t("login.wrong") : typeof body.detail === "string" ? body.detail : t("login.failed", { status: response.status }));
    form.elements.password.select();
  } catch (error) {
    show(t("login.no_answer"));
  } finally {
    submit.disabled = false;
  }
});
