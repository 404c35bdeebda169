from rest_framework.routers import SimpleRouter

from accounts import views

app_name = "users"

router = SimpleRouter()
router.register("", views.UserViewSet, basename="user")

urlpatterns = router.urls
