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

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    errorBox.textContent = "";
    stripe.confirmCardPayment(form.dataset.clientSecret, { payment_method: { card: card } }).then(function (result) {
      if (result.error) {
        errorBox.textContent = result.error.message || form.dataset.failed;
        button.disabled = false;
        return;
      }
      window.location.assign(form.dataset.doneUrl);
    });
  });
})();
