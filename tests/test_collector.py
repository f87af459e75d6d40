"""The collector pause: nested and concurrent sections, and a collector already off."""

from __future__ import annotations

import gc
import threading

from marketplace import collector


def test_the_collector_is_off_inside_and_back_on_after_the_last_section():
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer section still runs
    assert gc.isenabled()


def test_a_section_ending_in_one_thread_leaves_another_threads_section_paused():
    inside, release = threading.Event(), threading.Event()
    seen = []

    def other():
        with collector.paused():
            inside.set()
            release.wait(5)
            seen.append(gc.isenabled())

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    with collector.paused():
        pass  # ends while the other thread's section is open
    release.set()
    thread.join(5)
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_switched_off_elsewhere_stays_off():
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_inside_still_turns_it_back_on():
    try:
        with collector.paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()
