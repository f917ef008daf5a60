"""One example of each built-in ``html.*`` signal: its options and the element it changes.

The page calls them in the browser, ``demo.html.run`` sends the same ones
from a worker; both read this table.
"""

from __future__ import annotations

from typing import Any

ADDED = '<span class="added">{}</span>'

HTML_EXAMPLES: dict[str, dict[str, Any]] = {
    "html.add_class": {"selector": "#x-add-class", "class_name": "on"},
    "html.remove_class": {"selector": "#x-remove-class", "class_name": "on"},
    "html.after": {"selector": "#x-after", "content": ADDED.format("after")},
    "html.before": {"selector": "#x-before", "content": ADDED.format("before")},
    "html.append": {"selector": "#x-append", "content": ADDED.format("appended")},
    "html.prepend": {"selector": "#x-prepend", "content": ADDED.format("prepended")},
    "html.replace_with": {
        "selector": "#x-replace-with",
        "content": '<span id="x-replaced" class="added">replacement</span>',
    },
    "html.content": {"selector": "#x-content", "content": "<em>new</em> content"},
    "html.text": {"selector": "#x-text", "content": "<em>not HTML</em>"},
    "html.empty": {"selector": "#x-empty"},
    "html.remove": {"selector": "#x-remove"},
    "html.add_attribute": {
        "selector": "#x-add-attribute",
        "attr_name": "title",
        "attr_value": "set by dfws",
    },
    "html.remove_attr": {"selector": "#x-remove-attr", "attr_name": "title"},
    "html.boolean_attribute": {
        "selector": "#x-boolean-attribute",
        "name": "disabled",
        "value": True,
    },
    "html.focus": {"selector": "#x-focus"},
    "html.download_file": {"url": "/download/hello.txt", "filename": "hello.txt"},
    "html.forms.set": {
        "selector": "#x-forms-set",
        "values": {"city": "Lyon", "size": "L", "gift": True},
    },
    "html.progress": {"selector": "#x-progress", "fraction": 0.6, "message": "60 %"},
}

# what each example acts on, as it is before the signal
TARGETS: dict[str, str] = {
    "html.add_class": '<span id="x-add-class" class="box">box</span>',
    "html.remove_class": '<span id="x-remove-class" class="box on">box</span>',
    "html.after": '<span id="x-after" class="box">box</span>',
    "html.before": '<span id="x-before" class="box">box</span>',
    "html.append": '<span id="x-append" class="box">box</span>',
    "html.prepend": '<span id="x-prepend" class="box">box</span>',
    "html.replace_with": '<span id="x-replace-with" class="box">box</span>',
    "html.content": '<span id="x-content" class="box">old content</span>',
    "html.text": '<span id="x-text" class="box">old text</span>',
    "html.empty": '<span id="x-empty" class="box"><b>one</b> <b>two</b></span>',
    "html.remove": '<span id="x-remove" class="box">remove me</span>',
    "html.add_attribute": '<span id="x-add-attribute" class="box">hover me</span>',
    "html.remove_attr": '<span id="x-remove-attr" class="box" title="a title">hover me</span>',
    "html.boolean_attribute": '<input id="x-boolean-attribute" value="enabled">',
    "html.focus": '<input id="x-focus" placeholder="focus lands here">',
    "html.download_file": '<span class="box">hello.txt</span>',
    "html.forms.set": (
        '<form id="x-forms-set"><input name="city" value="">'
        '<select name="size"><option>S</option><option>M</option><option>L</option></select>'
        '<label><input type="checkbox" name="gift"> gift</label></form>'
    ),
    "html.progress": '<progress id="x-progress" max="1" value="0"></progress>',
}
