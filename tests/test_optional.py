import pytest

from sktransfer._optional import import_optional
from sktransfer.exceptions import MissingDependencyError


def test_present_module_is_returned():
    assert import_optional("json", extra="none", purpose="tests").dumps([]) == "[]"


def test_missing_module_names_the_extra():
    with pytest.raises(MissingDependencyError, match=r"pip install 'sktransfer\[compare\]'") as info:
        import_optional("no_such_module_sktransfer", extra="compare", purpose="the learning-curve plot")
    assert "the learning-curve plot" in str(info.value)
    assert isinstance(info.value, ImportError)
