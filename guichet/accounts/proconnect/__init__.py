"""ProConnect, the State's sign-in for public agents and people acting for a company or an
association: an OpenID Connect provider for django-allauth whose userinfo is a signed JWT and
carries the SIRET of the organisation the person acts for."""
