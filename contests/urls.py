from rest_framework.routers import SimpleRouter

from contests import views

app_name = "contests"

router = SimpleRouter()
router.register("", views.ContestViewSet, basename="contest")

urlpatterns = router.urls
