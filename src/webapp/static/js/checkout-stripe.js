// Paying with Stripe: the Payment Element on the order's PaymentIntent, confirmed in the
// browser by Stripe.js (3-D Secure included); Stripe then lands the shopper on the order's
// page (return_url), which shows the outcome once Stripe's webhook has told the shop.
(function () {
  "use strict";
  var form = document.getElementById("stripe-payment");
  if (!form || typeof window.Stripe !== "function") {
    return;
  }
  var message = document.getElementById("payment-message");
  var button = document.getElementById("stripe-pay");
  var stripe = window.Stripe(form.getAttribute("data-publishable-key"));
  var elements = stripe.elements({ clientSecret: form.getAttribute("data-client-secret") });
  elements.create("payment").mount("#payment-element");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    message.textContent = "";
    stripe
      .confirmPayment({
        elements: elements,
        confirmParams: { return_url: form.getAttribute("data-return-url") },
      })
      .then(function (result) {
        // Only reached when the payment could not be confirmed (otherwise Stripe redirects).
        if (result.error) {
          message.textContent = result.error.message || "The payment did not go through.";
        }
        button.disabled = false;
      });
  });
})();
