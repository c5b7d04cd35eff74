"""placeholder"""
def write_image(*a, **k):
    raise NotImplementedError
