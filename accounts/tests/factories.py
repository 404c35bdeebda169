from typing import Any

import factory

from accounts.models import Role, User


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"player{n}@example.com")
    display_name = factory.Sequence(lambda n: f"player{n}")
    role = Role.USER

    @factory.post_generation
    def password(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        self.set_password(extracted or "correct-horse-battery-9")
        if create:
            self.save(update_fields=["password"])
