import { ApiError, request } from "../api";
import { setToken } from "../auth";
import { field, h, notice, replace } from "../dom";
import { navigate, type View } from "../router";

/** The sign-in form: the token is checked against the API, then kept in sessionStorage. */
export function loginView(onSignedIn: () => void): View {
  return (root, _params, search) => {
    const input = h("input", {
      type: "password",
      name: "token",
      autocomplete: "off",
      spellcheck: "false",
      required: true,
      id: "token",
    });
    const status = h("div", { "aria-live": "assertive" });
    const submit = h("button", { type: "submit" }, "Sign in");
    const form = h(
      "form",
      { class: "login", "aria-describedby": "login-help" },
      field("API token", input, "The admin token printed by the run command, or one made with `hyper-registry token create`."),
      submit,
      status,
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      submit.disabled = true;
      replace(status);
      try {
        await request("GET", "/v1/entries", { params: { limit: 1 }, token });
        setToken(token);
        onSignedIn();
        const next = search.get("next");
        navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/catalog", true);
      } catch (exc) {
        const message =
          exc instanceof ApiError && exc.status === 401
            ? "That token is not valid (unknown, malformed or revoked)."
            : `Sign-in failed: ${(exc as Error).message}`;
        replace(status, notice("error", message));
        input.focus();
      } finally {
        submit.disabled = false;
      }
    });
    replace(
      root,
      h(
        "section",
        { class: "login-page" },
        h("h1", {}, "Sign in to Hyper Registry"),
        h(
          "p",
          { id: "login-help" },
          "Paste an API token. It is kept in this browser tab only (session storage) and sent as a Bearer header; it never appears in a URL.",
        ),
        form,
      ),
    );
    setTimeout(() => input.focus(), 0);
  };
}
