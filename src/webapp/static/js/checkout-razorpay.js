// Paying with Razorpay: Razorpay Checkout on the Razorpay order the shop created; what it
// hands back - the payment id and, for a successful payment, its signature - goes to the shop
// (POST /checkout/pay with payment_method and payment_proof), which checks and captures it.
// A failed payment is posted too (no signature): the shop records the decline.
(function () {
  "use strict";
  var form = document.getElementById("razorpay-payment");
  var button = document.getElementById("razorpay-pay");
  if (!form || !button || typeof window.Razorpay !== "function") {
    return;
  }
  var message = document.getElementById("payment-message");

  function send(paymentId, signature) {
    form.elements.payment_method.value = paymentId;
    form.elements.payment_proof.value = signature || "";
    form.submit();
  }

  button.addEventListener("click", function () {
    var checkout = new window.Razorpay({
      key: form.getAttribute("data-key-id"),
      order_id: form.getAttribute("data-order-id"),
      amount: form.getAttribute("data-amount"),
      currency: form.getAttribute("data-currency"),
      name: form.getAttribute("data-shop-name"),
      prefill: { name: form.getAttribute("data-name"), email: form.getAttribute("data-email") },
      handler: function (response) {
        send(response.razorpay_payment_id, response.razorpay_signature);
      },
      modal: {
        ondismiss: function () {
          message.textContent = "The payment window was closed; nothing was charged.";
        },
      },
    });
    checkout.on("payment.failed", function (response) {
      var failed = response && response.error && response.error.metadata;
      if (failed && failed.payment_id) {
        send(failed.payment_id, "");
      }
    });
    checkout.open();
  });
})();
