from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Submission

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@extend_schema_field(OpenApiTypes.INT64)
class StrictIntegerField(serializers.Field[int, int, int, Any]):
    """A JSON integer and nothing else: no strings, floats, booleans or null."""

    default_error_messages = {
        "invalid": "A JSON integer is required.",
        "out_of_range": "The integer must fit in 64 bits.",
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        if not INT64_MIN <= data <= INT64_MAX:
            self.fail("out_of_range")
        return data

    def to_representation(self, value: int) -> int:
        return value


class SubmitSerializer(serializers.Serializer[Any]):
    score = StrictIntegerField()


class AdjustSerializer(serializers.Serializer[Any]):
    delta = StrictIntegerField()
    reason = serializers.CharField(max_length=500)


class EntryStateSerializer(serializers.Serializer[Any]):
    score = serializers.IntegerField()
    reached_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class SubmissionSerializer(serializers.ModelSerializer[Submission]):
    entry = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = [
            "id",
            "user_id",
            "kind",
            "score",
            "created_at",
            "outcome",
            "new_best",
            "entry",
            "reason",
        ]
        read_only_fields = fields

    def get_entry(self, submission: Submission) -> dict[str, Any]:
        return {
            "score": submission.entry_score,
            "reached_at": serializers.DateTimeField().to_representation(
                submission.entry_reached_at
            ),
            "version": submission.entry_version,
        }


class SubmitResponseSerializer(serializers.Serializer[Any]):
    submission = SubmissionSerializer()
    score = serializers.IntegerField(help_text="The entry's score after this.")
    rank = serializers.IntegerField(
        allow_null=True, help_text="Public rank; null while the board is repaired."
    )
    new_best = serializers.BooleanField()


class RowSerializer(serializers.Serializer[Any]):
    rank = serializers.IntegerField(allow_null=True)
    user_id = serializers.IntegerField()
    display_name = serializers.CharField()
    score = serializers.IntegerField()
    reached_at = serializers.DateTimeField()


class PageSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)
    frozen = serializers.BooleanField()
    results = RowSerializer(many=True)


class LeaderboardMeSerializer(serializers.Serializer[Any]):
    rank = serializers.IntegerField(allow_null=True)
    score = serializers.IntegerField(allow_null=True)
    reached_at = serializers.DateTimeField(allow_null=True)
    count = serializers.IntegerField()
    frozen = serializers.BooleanField()
    neighbours = RowSerializer(many=True)
