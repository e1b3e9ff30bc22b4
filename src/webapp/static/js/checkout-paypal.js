// Paying with PayPal: PayPal's buttons on the PayPal order the shop created (the intent); once
// the buyer approved it in PayPal's window, the form posts to the shop, which captures it
// (POST /checkout/pay with payment_method "paypal").
(function () {
  "use strict";
  var form = document.getElementById("paypal-payment");
  if (!form || !window.paypal || typeof window.paypal.Buttons !== "function") {
    return;
  }
  var message = document.getElementById("payment-message");
  window.paypal
    .Buttons({
      createOrder: function () {
        return form.getAttribute("data-order-id");
      },
      onApprove: function () {
        form.submit();
      },
      onError: function () {
        message.textContent = "PayPal could not take the payment. Please try again.";
      },
    })
    .render("#paypal-buttons");
})();
