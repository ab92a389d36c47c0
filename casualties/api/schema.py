"""The OpenAPI schema documents every status code the API can answer, with its body and headers.

The Error and FieldErrors components are declared in SPECTACULAR_SETTINGS["APPEND_COMPONENTS"].
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import SAFE_METHODS

ERROR = {"$ref": "#/components/schemas/Error"}
FIELD_ERRORS = {"$ref": "#/components/schemas/FieldErrors"}
ETAG = {"ETag": {"schema": {"type": "string"}, "description": "Validator for If-None-Match (not on streamed bodies)."}}


def _response(description: str, schema: dict | None = None, headers: dict | None = None) -> dict:
    response: dict = {"description": description}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    if headers:
        response["headers"] = headers
    return response


class ApiAutoSchema(AutoSchema):
    def get_operation(self, *args, **kwargs) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        for parameter in (operation or {}).get("parameters", []):
            if parameter["in"] == "query":
                parameter["allowEmptyValue"] = True  # an empty parameter is the same as an absent one
        return operation

    def get_response_serializers(self):
        """A write answers with the view's read representation (core.api.WriteResponsesMixin), so the schema
        says so."""
        reader = getattr(self.view, "read_serializer_class", None)
        if reader is not None and self.method in ("POST", "PUT", "PATCH"):
            return reader
        return super().get_response_serializers()

    def get_auth(self) -> list[dict]:
        auths = super().get_auth()
        if self.method in SAFE_METHODS and {} not in auths:
            auths.append({})  # reads are open to anonymous clients (the public set)
        return auths

    def _get_response_bodies(self, direction="response") -> dict:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        is_list = self._is_list_view()
        responses.setdefault("401", _response("The token is invalid or the account inactive.", ERROR))
        responses.setdefault("429", _response("Too many requests; retry after the Retry-After seconds.", ERROR))
        responses["414"] = _response("The URL is too long; send fewer or shorter parameters.", ERROR)
        if self.method == "GET":
            responses["200"]["headers"] = ETAG
            responses["304"] = _response("Not modified: the If-None-Match ETag is current.", headers=ETAG)
        if self.method == "GET" and is_list:
            responses["400"] = _response("A query parameter is malformed or names nothing known.", FIELD_ERRORS)
        if "{" in self.path:
            responses["404"] = _response("No such record, or not one you may see.", ERROR)
        if self.method in ("POST", "PUT", "PATCH"):
            responses["400"] = _response("The body is invalid; messages per field.", FIELD_ERRORS)
            responses["403"] = _response("Your role may not make this change.", ERROR)
            responses["409"] = _response("A stale version, or a retry whose content differs.", ERROR)
            responses["413"] = _response("The body is larger than the service accepts.", ERROR)
        if self.method == "POST" and "201" in responses:
            responses["200"] = {**responses["201"], "description": "A retry of an earlier create: nothing new."}
        return responses
