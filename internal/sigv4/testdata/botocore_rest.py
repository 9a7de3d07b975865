"""Writes botocore_rest.json: restJson1 Athena requests as botocore serialises and signs them
(test/test, us-east-1; the time is the request's X-Amz-Date), for TestBotocoreRESTVectors. Run with the test tools'
interpreter: $(scripts/pyenv.sh python/requirements-test.txt) internal/sigv4/testdata/botocore_rest.py
"""

import json
import pathlib

import botocore
import botocore.awsrequest
import botocore.session

ARN = "arn:aws:athena:us-east-1:123456789012:workgroup/my wg+1"
CALLS = [
    ("list_tags_for_resource", {"ResourceARN": ARN, "MaxResults": 75, "NextToken": "a/b=c&d e"}),
    ("untag_resource", {"ResourceARN": ARN, "TagKeys": ["b key", "a/key", "a/key2"]}),
    ("tag_resource", {"ResourceARN": ARN, "Tags": [{"Key": "k", "Value": "v ü"}]}),
    ("get_work_group", {"WorkGroup": "primary"}),
    ("delete_work_group", {"WorkGroup": "wg~1", "RecursiveDeleteOption": True}),
]


def main():
    session = botocore.session.get_session()
    session.set_credentials("test", "test")
    client = session.create_client("athena", region_name="us-east-1", endpoint_url="http://127.0.0.1:8080")
    assert client.meta.service_model.protocol == "rest-json", client.meta.service_model.protocol
    vectors = []

    def capture(request, **_):
        headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        signed = headers["Authorization"].split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
        # Only what the signature covers (and the signature): no User-Agent with this host's details.
        keep = {k: v for k, v in headers.items() if k.lower() in signed or k == "Authorization"}
        vectors.append({
            "method": request.method,
            "url": request.url,
            "headers": keep,
            "body": (request.body or b"").decode() if isinstance(request.body, (bytes, type(None))) else request.body,
        })
        return botocore.awsrequest.AWSResponse(request.url, 200, {}, None)

    client.meta.events.register("before-send", capture)
    for op, params in CALLS:
        try:
            getattr(client, op)(**params)
        except Exception:  # the fake empty 200 may not parse; the request is captured
            pass
    out = {"botocore": botocore.__version__, "requests": vectors}
    path = pathlib.Path(__file__).with_name("botocore_rest.json")
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(vectors)} requests to {path}")


if __name__ == "__main__":
    main()
