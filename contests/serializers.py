from datetime import timedelta

from rest_framework import serializers

from .models import MAX_EXACT_SCORE, MAX_RETENTION, Contest

CONTEST_FIELDS = [
    "slug",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "freeze_at",
    "scoring",
    "order",
    "ties",
    "score_min",
    "score_max",
    "join_required",
    "max_participants",
    "max_submissions_per_user",
    "retention",
]


class ContestSerializer(serializers.ModelSerializer[Contest]):
    state = serializers.CharField(read_only=True)
    participant_count = serializers.IntegerField(read_only=True, default=None)
    score_min = serializers.IntegerField(
        min_value=-MAX_EXACT_SCORE, max_value=MAX_EXACT_SCORE, required=False
    )
    score_max = serializers.IntegerField(
        min_value=-MAX_EXACT_SCORE, max_value=MAX_EXACT_SCORE, required=False
    )
    max_participants = serializers.IntegerField(
        min_value=1, max_value=10_000_000, required=False, allow_null=True
    )
    max_submissions_per_user = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, allow_null=True
    )

    class Meta:
        model = Contest
        fields = [
            "id",
            *CONTEST_FIELDS,
            "state",
            "participant_count",
            "published_at",
            "cancelled_at",
            "finalized_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "state",
            "published_at",
            "cancelled_at",
            "finalized_at",
            "created_at",
            "updated_at",
        ]

    def validate_retention(self, value: timedelta) -> timedelta:
        if not timedelta(0) <= value <= MAX_RETENTION:
            raise serializers.ValidationError(
                "Retention lies between 0 and 365 days.", code="out_of_range"
            )
        return value


class ContestUpdateSerializer(ContestSerializer):
    class Meta(ContestSerializer.Meta):
        # The slug is the URL key: it never changes.
        read_only_fields = [*ContestSerializer.Meta.read_only_fields, "slug"]
