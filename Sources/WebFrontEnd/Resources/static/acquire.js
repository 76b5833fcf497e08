// Certificate acquisition page: make the key, send only the request, build the PKCS#12 here.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("acquire-form");
  if (!form) return;
  const messages = document.getElementById("messages").dataset;
  const show = (id, text) => { const el = document.getElementById(id); el.textContent = text || ""; el.hidden = !text; };
  const step = (name) => {
    for (const li of document.querySelectorAll("#progress li")) {
      li.classList.toggle("current", li.dataset.step === name);
      if (li.dataset.step === name) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
    }
  };

  // The PKCS#12 password is used exactly as typed, never normalised: the importers (Windows,
  // Keychain Access, NSS, openssl) use what the customer types there, so the page must not turn
  // full-width "ＡＢＣ" into "ABC" behind their back. It says so, and warns when the password
  // has characters other than printable ASCII, so that they type the same ones when installing.
  const passwordField = document.getElementById("p12password");
  passwordField.addEventListener("input", () => {
    show("p12-note", /[^\x20-\x7e]/.test(passwordField.value) ? messages.nonascii : "");
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show("p12-error", ""); show("form-error", "");
    const fields = new FormData(form);
    const password = fields.get("p12password") || "";
    if (password.length < 8) { show("p12-error", messages.short); return; }
    if (password !== fields.get("p12password2")) { show("p12-error", messages.mismatch); return; }
    if (!window.crypto || !crypto.subtle) { show("form-error", messages.unsupported); return; }
    const button = document.getElementById("acquire-submit");
    button.disabled = true;
    document.getElementById("progress").hidden = false;
    try {
      step("key");
      const keyPair = await PKCS.generateKey();
      step("request");
      const csr = await PKCS.certificationRequest(keyPair, "BizDirect acquisition");
      step("issue");
      const card = {};
      for (const input of form.querySelectorAll("[data-cell]")) card[input.dataset.cell] = input.value;
      const body = {
        kind: form.dataset.kind, csrf: fields.get("csrf"), csr: DER.base64(csr), pin: fields.get("pin") || "",
        contractID: fields.get("contractID"), userID: fields.get("userID"), code: fields.get("code"),
        confirmationPIN: fields.get("confirmationPIN"), card,
      };
      const response = await fetch(form.dataset.endpoint, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin",
      });
      const reply = await response.json();
      if (!reply.ok) {
        document.getElementById("progress").hidden = true;
        show("form-error", reply.message || messages.failed);
        button.disabled = false;
        return;
      }
      step("package");
      const chain = [reply.certificate, ...reply.chain].map(DER.fromBase64);
      const p12 = await PKCS.pfx(keyPair, chain, password, reply.name);
      const link = document.getElementById("download");
      link.href = URL.createObjectURL(new Blob([p12], { type: "application/x-pkcs12" }));
      link.download = `bizdirect-${reply.serial}.p12`;
      document.getElementById("serial").textContent = reply.serial;
      document.getElementById("expiry").textContent = reply.notAfter;
      document.getElementById("csr").textContent = DER.pem("CERTIFICATE REQUEST", csr);
      form.hidden = true;
      document.getElementById("progress").hidden = true;
      document.getElementById("done").hidden = false;
      document.getElementById("done").scrollIntoView();
    } catch (error) {
      document.getElementById("progress").hidden = true;
      show("form-error", messages.failed);
      button.disabled = false;
    }
  });
});
