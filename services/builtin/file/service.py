"""The file service's endpoints, schemas and examples, following M3O's File API."""

from __future__ import annotations

from services.builtin.file import handlers
from services.builtin.schemas import MAX_OFFSET, request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

PROJECT = {
    "type": "string",
    "minLength": 1,
    "maxLength": 100,
    "description": "A name that groups files, such as my-website; no slashes.",
}
PATH = {
    "type": "string",
    "minLength": 1,
    "maxLength": 400,
    "description": "The file's path, such as /docs/readme.txt.",
}
METADATA = {
    "type": "object",
    "maxProperties": 100,
    "propertyNames": {"maxLength": 100},
    "additionalProperties": {"type": "string", "maxLength": 1000},
    "description": "Your own key-value pairs about the file.",
}
FILE = response_object(
    {
        "project": {"type": "string"},
        "path": {"type": "string"},
        "content": {"type": "string"},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "public": {"type": "boolean"},
        "url": {"type": "string", "description": "The public URL, or an empty string for a private file."},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
    }
)
FILE_REQUEST = request_object({"project": PROJECT, "path": PATH}, ["project", "path"])
EXAMPLE_URL = "http://127.0.0.1:8000/f/Xk3n9Qm2Lp0aVb7c/my-website/docs/readme.txt"
EXAMPLE_FILE = {
    "project": "my-website",
    "path": "/docs/readme.txt",
    "content": "Hello, world.",
    "metadata": {"author": "jane"},
    "public": True,
    "url": EXAMPLE_URL,
    "created": "2026-01-01T12:00:00+00:00",
    "updated": "2026-01-01T12:00:00+00:00",
}

SERVICE = register(
    BuiltinService(
        slug="file",
        name="File",
        tagline="Store text files, private or public.",
        description=(
            "Save, read, list and delete text files grouped in projects. Files are private to your account "
            "unless you save them as public: a public file gets a stable URL on this platform that anyone "
            "can open. Files that are not plain text, CSV, Markdown or JSON are served as downloads."
        ),
        category="Storage",
        icon="📄",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="Save",
                handler=handlers.save,
                description=(
                    "Create or replace a file. With public true, the response holds the file's public URL; "
                    "otherwise the URL is empty and the file is private."
                ),
                request_schema=request_object(
                    {
                        "file": request_object(
                            {
                                "project": PROJECT,
                                "path": PATH,
                                "content": {"type": "string", "description": "The file's text."},
                                "metadata": METADATA,
                            },
                            ["project", "path"],
                        ),
                        "public": {"type": "boolean", "default": False, "description": "Serve the file at a public URL."},
                    },
                    ["file"],
                ),
                response_schema=response_object({"url": {"type": "string"}}),
                price_units=100,
                examples=[
                    {
                        "title": "Save a public file",
                        "request": {
                            "file": {
                                "project": "my-website",
                                "path": "/docs/readme.txt",
                                "content": "Hello, world.",
                                "metadata": {"author": "jane"},
                            },
                            "public": True,
                        },
                        "response": {"url": EXAMPLE_URL},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Read",
                handler=handlers.read,
                description="Read a file by project and path.",
                request_schema=FILE_REQUEST,
                response_schema=response_object({"file": FILE}),
                price_units=100,
                examples=[
                    {
                        "title": "Read a file",
                        "request": {"project": "my-website", "path": "/docs/readme.txt"},
                        "response": {"file": EXAMPLE_FILE},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="List",
                handler=handlers.list_files,
                description=(
                    "List the files of a project by path, or only those in a folder such as /docs and its "
                    "subfolders. The content is left out; read a file to get it."
                ),
                request_schema=request_object(
                    {
                        "project": PROJECT,
                        "path": {
                            "type": "string",
                            "maxLength": 400,
                            "default": "/",
                            "description": "A folder such as /docs; / lists the whole project.",
                        },
                        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0, "description": "Files to skip."},
                        "limit": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 100,
                            "description": "Maximum number of files to return.",
                        },
                    },
                    ["project"],
                ),
                response_schema=response_object({"files": {"type": "array", "items": FILE}}),
                price_units=100,
                examples=[
                    {
                        "title": "List a folder",
                        "request": {"project": "my-website", "path": "/docs"},
                        "response": {"files": [{**EXAMPLE_FILE, "content": ""}]},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Delete",
                handler=handlers.delete,
                description="Delete a file by project and path.",
                request_schema=FILE_REQUEST,
                response_schema=response_object({}),
                price_units=100,
                examples=[
                    {
                        "title": "Delete a file",
                        "request": {"project": "my-website", "path": "/docs/readme.txt"},
                        "response": {},
                    }
                ],
            ),
        ],
    )
)
