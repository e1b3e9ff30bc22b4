"""A production configuration that passes every check, for tests that change one thing in it."""

from __future__ import annotations

# Random-looking values in each provider's format (none of them is a real credential).
PRODUCTION_ENV = {
    "APP_ENV": "production",
    "SECRET_KEY": "q7Vx2pLr9KzT4mWc8NbY1sHd6FgJ3aUe0RiO5yEt",
    "DATABASE_URL": "postgresql+psycopg://shop@db.internal/shop",
    "PUBLIC_URL": "https://shop.example.com",
    "PAYMENT_GATEWAY": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "TYooMQauvdEDq54NiTphI7jx",
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "5f0c9e4b2a7d18e3c6b94f07a2d5e81c",
    "PAYPAL_CLIENT_ID": "AeHb3kP9rT2sV7wX1yZ4cD6fG8hJ0kL",
    "PAYPAL_CLIENT_SECRET": "EJv7sKq2Lm9Np4Rt8Wx1Zb5Cd3Fg6Hj0",
    "PAYPAL_WEBHOOK_ID": "8PT597110X687430LKGECATA",
    "PAYPAL_ENVIRONMENT": "live",
    "RAZORPAY_KEY_ID": "rzp_live_" + "ILgsfZCZoFIKMb",
    "RAZORPAY_KEY_SECRET": "Xy8Qw3Er7Ty1Ui5Op9As2Df6",
    "RAZORPAY_WEBHOOK_SECRET": "Vd2qK8xT0mPz4LwR7nYc1sHb6FgJ3aUe",
    "SMTP_URL": "smtp://shop%40example.com:Pq7vT2mX9kLr4wZs@smtp.example.com:587?starttls=1",
    "MAIL_FROM": "Example Shop <orders@shop.example.com>",
}
