"""The partner agencies cases are referred to: market surveillance, police, e-commerce authority."""
