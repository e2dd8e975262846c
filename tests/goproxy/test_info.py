"""The JSON of .info answers: refused exactly where the go command's json.Unmarshal into RevInfo refuses it."""

from __future__ import annotations

from gauntlet.goproxy.info import RevInfo, decode

CASES = [
    '{"Version":"v1.2.3","Time":"2023-06-08T11:20:31Z"}', '{"Version":"v1.2.3"}', '{"version":"v1.2.3"}',
    '{"VERSION":"v1.2.3","version":"v1.2.4"}', '{"Version":"v1.2.3","Origin":{"VCS":"git","Hash":"abc"}}',
    '{"Version":"v1.2.3","Time":null,"Origin":null}', '{"Version":"v1.2.3","Extra":[1,2]}', 'null', '{}',
    '{"Version":1}', '{"Version":"v1","Time":5}', '{"Version":"v1","Origin":"git"}', '[]', '"v1.2.3"',
    '<html>404</html>', '', '{"Version":"v1.2.3"', '{"Version":NaN}',
]


def test_decoding_agrees_with_go(go_decodes):
    def ours(text: str) -> str:
        try:
            return f'ok "{decode(text.encode()).version}"'
        except ValueError:
            return "error"

    assert {c: ours(c) for c in CASES} == dict(zip(CASES, go_decodes(CASES), strict=True))


def test_the_time_is_kept_as_written_for_the_time_check():
    assert decode(b'{"Version":"v1","Time":"2023-06-08T11:20:31"}') == RevInfo("v1", "2023-06-08T11:20:31")
