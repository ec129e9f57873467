def init_app(app): pass
def periodic(): pass
def seed_demo(*a,**k): pass
def on_registration_requested(*a,**k): pass
def on_country_page_requested(*a,**k): pass
