"""gradflow's pytest plugin (entry point ``pytest11``): the ``gradflow`` fixture.

```python
def test_frozen_teacher(gradflow):
    gradflow.assert_gradients(loss_fn, x, flows=["student/*"], blocked=["teacher/*"])
```
"""

from __future__ import annotations

import pytest

from .testing import GradflowFixture


@pytest.fixture
def gradflow() -> GradflowFixture:
    """``assert_gradients``, ``inspect`` and ``inspect_file`` from :mod:`gradflow`."""
    return GradflowFixture()
