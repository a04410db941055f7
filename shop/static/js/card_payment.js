// The card form: Stripe.js Elements collects the card and confirms the order's PaymentIntent.
// The browser's word never marks the order paid: the server waits for Stripe's confirmation.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errorBox = document.getElementById("card-error");
  var button = document.getElementById("card-submit");

  function finish(result) {
    if (result.error) {
      errorBox.textContent = result.error.message || form.dataset.failed;
      button.disabled = false;
      return;
    }
    window.location.assign(form.dataset.doneUrl);
  }

  // A local fake Stripe server's stand-in cannot confirm with the typed card: it makes a token,
  // our server confirms with it, and the stand-in then plays 3-D Secure if the card asks for it.
  function confirmOnFakeStripe() {
    return stripe.createToken(card).then(function (made) {
      if (made.error) { return { error: made.error }; }
      return fetch(form.dataset.fakeConfirmUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf },
        body: JSON.stringify({ token: made.token.id })
      }).then(function (response) { return response.json(); }).then(function (body) {
        if (body.error) { return { error: body.error }; }
        if (body.status === "requires_action") { return stripe.confirmCardPayment(form.dataset.clientSecret); }
        return {};
      });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    errorBox.textContent = "";
    var confirming = form.dataset.fakeConfirmUrl ? confirmOnFakeStripe()
      : stripe.confirmCardPayment(form.dataset.clientSecret, { payment_method: { card: card } });
    confirming.then(finish, function () { finish({ error: {} }); });
  });
})();
