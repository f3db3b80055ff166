"""The one answer for background work: 202 Accepted, the job, and a Location header."""

from rest_framework import status
from rest_framework.response import Response

from .serializers import JobSerializer


def job_accepted(job, request) -> Response:
    data = JobSerializer(job, context={"request": request}).data
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})
