"""The Redbutton benchmark: a seeded data set at scale and scenarios measured against limits."""
