from framework.app import App

from ..record import record


def init_second(config):
    answer = input("Favourite colour? ")
    record({"app": "second", "async": False, "answer": answer})


app = App(init_func=init_second)
