// Top-up form: a new card is set up with Stripe Elements and a SetupIntent,
// then the server charges it through a PaymentIntent. A saved card goes
// straight to the server. Cards that need 3-D Secure are authenticated here.
(function () {
  "use strict";

  const form = document.getElementById("topup-form");
  if (!form || typeof Stripe === "undefined") {
    return;
  }
  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");

  const errorBox = document.getElementById("topup-error");
  const submit = document.getElementById("topup-submit");
  const newCard = document.getElementById("new-card");
  const csrfToken = form.querySelector("[name=csrfmiddlewaretoken]").value;

  function chosenMethod() {
    const checked = form.querySelector("input[name=payment_method]:checked");
    return checked ? checked.value : "new";
  }

  function showNewCard() {
    newCard.hidden = chosenMethod() !== "new";
  }
  form.querySelectorAll("input[name=payment_method]").forEach((input) => input.addEventListener("change", showNewCard));
  showNewCard();

  async function post(url, data) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
      body: data,
    });
    const body = await response.json().catch(() => ({ error: "The server sent an unreadable response." }));
    if (!response.ok) {
      throw new Error(body.error || `Request failed with status ${response.status}.`);
    }
    return body;
  }

  async function newPaymentMethod() {
    const setup = await post(form.dataset.setupUrl, new FormData());
    const result = await stripe.confirmCardSetup(setup.client_secret, { payment_method: { card: card } });
    if (result.error) {
      throw new Error(result.error.message || "The card could not be saved.");
    }
    const method = result.setupIntent.payment_method;
    return typeof method === "string" ? method : method.id;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    submit.disabled = true;
    try {
      const data = new FormData(form);
      if (chosenMethod() === "new") {
        data.set("payment_method", await newPaymentMethod());
      }
      let payment = await post(form.action, data);
      if (payment.status === "requires_action") {
        const result = await stripe.confirmCardPayment(payment.client_secret);
        if (result.error) {
          errorBox.textContent = result.error.message || "Card authentication failed.";
        }
        payment = await post(payment.sync_url, new FormData());
      }
      window.location.assign(payment.receipt_url);
    } catch (error) {
      errorBox.textContent = error.message;
      submit.disabled = false;
    }
  });
})();
