"""placeholder"""
def write_geotiff(*a, **k):
    raise NotImplementedError
