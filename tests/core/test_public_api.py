import agent


def test_public_surface_is_exactly_all():
    public = {n for n in dir(agent) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(agent, n)).__name__ == "module"}
    assert public - modules == set(agent.__all__)
