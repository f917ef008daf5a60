import dfws_celery
import dfws_web


def test_public_names_are_exactly_these():
    assert dfws_celery.__all__ == [
        "BROADCAST", "RE", "SERVER", "SESSION", "SYNC", "USER", "WINDOW", "Choice",
        "DynamicQueue", "PublishError", "SerializedForm", "WindowInfo", "apresence", "atrigger",
        "atrigger_signal", "everyone", "has_perm", "is_anonymous", "is_authenticated", "is_staff",
        "is_superuser", "presence", "report_progress", "server_side", "signal", "trigger", "trigger_signal",
    ]  # fmt: skip
    assert dfws_web.__all__ == ["set_websocket_topics"]


def test_every_public_name_is_importable():
    for name in dfws_celery.__all__:
        assert getattr(dfws_celery, name) is not None
