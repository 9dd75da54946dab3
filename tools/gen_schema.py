#!/usr/bin/env python3
"""Builds src/config/schema.json, lyncsh's own schema of configuration
families, from the facts file ../shared/reference/lync-schema.json: names,
.NET types, defaults, ranges, enums, scopes and display order. Descriptions
are lyncsh's own. Run again when the facts change; the output is committed.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FACTS = os.path.join(HERE, '..', '..', 'shared', 'reference', 'lync-schema.json')
OUT = os.path.join(HERE, '..', 'src', 'config', 'schema.json')

SYNOPSIS = {
    'CsAccessEdgeConfiguration': 'how the Edge server lets outside, anonymous and federated users in',
    'CsConferencingPolicy': 'what users may do in the meetings they organise, including inviting anonymous participants',
    'CsExternalAccessPolicy': 'whether users may talk to federated, public and outside contacts',
    'CsClientPolicy': 'how the Lync client behaves for the users it applies to',
    'CsMeetingConfiguration': 'defaults for scheduled meetings: lobby, presenters, anonymous admission, invitation text',
    'CsAllowedDomain': 'the federated domains users may communicate with',
    'CsBlockedDomain': 'the federated domains users may not communicate with',
}

# Families whose per-user policies are assigned with Grant-*: the user
# property that records the assignment.
USER_PROPERTY = {
    'CsConferencingPolicy': 'ConferencingPolicy',
    'CsExternalAccessPolicy': 'ExternalAccessPolicy',
    'CsClientPolicy': 'ClientPolicy',
}

# Properties shown although the sample output lacks them (see notes).
SHOW_EXTRA = {'CsBlockedDomain': ['Comment']}

TYPE_WORDS = {
    'Boolean': 'True or False',
    'UInt16': 'a whole number',
    'UInt32': 'a whole number',
    'Int32': 'a whole number',
    'Int64': 'a whole number',
    'String': 'text',
    'TimeSpan': 'a time span (hh:mm:ss)',
    'PSListModifier': 'a list of name=value settings',
}


def describe(p, enums):
    t = p['type']
    if t in enums:
        what = 'one of ' + ', '.join(enums[t])
    else:
        what = TYPE_WORDS.get(t, t)
    text = f"{p['name']}: {what}"
    if p.get('min') is not None and p.get('max') is not None:
        text += f", from {p['min']} to {p['max']}"
    elif p.get('min') is not None:
        text += f", at least {p['min']}"
    elif p.get('max') is not None:
        text += f", at most {p['max']}"
    d = p.get('default')
    if d is not None and d != '':
        shown = {True: 'True', False: 'False'}.get(d, d)
        text += f". A new instance has {shown}"
    return text + '.'


def main():
    facts = json.load(open(FACTS))
    enums = {k: [v for v in vals if 'UNCONFIRMED' not in v] for k, vals in facts['enums'].items()}
    enums['RoutingMethod'] = ['UseDnsSrvRouting', 'UseDefaultRouting']
    families = []
    for f in facts['families']:
        noun = f['noun']
        if noun not in SYNOPSIS:
            continue  # users and roles have their own code
        order = f.get('display_order') or [p['name'] for p in f['properties']]
        shown = set(order) | set(SHOW_EXTRA.get(noun, []))
        by_name = {p['name']: p for p in f['properties']}
        names = list(order) + [p['name'] for p in f['properties'] if p['name'] not in order]
        props = []
        for name in names:
            p = by_name[name]
            t = p['type']
            if t.startswith('enum'):
                t = 'RoutingMethod'
            prop = {'name': name, 'type': t}
            if name == 'Identity':
                prop['type'] = 'Identity'
            d = p.get('default')
            if isinstance(d, str) and 'UNCONFIRMED' in d:
                d = None
            if t in enums and d is not None and d not in enums[t]:
                d = None
            if name not in ('Identity',) and d is not None:
                prop['default'] = d
            for bound in ('min', 'max'):
                b = p.get(bound)
                if isinstance(b, str):
                    # TimeSpan bounds, as seconds.
                    h, m, sec = (int(x) for x in b.split(':'))
                    b = h * 3600 + m * 60 + sec
                if b is not None:
                    prop[bound] = b
            if name not in shown:
                prop['shown'] = False
            if name in ('RoutingMethod',):
                prop['read_only'] = True
            prop['help'] = describe({**p, 'type': t}, enums)
            props.append(prop)
        scopes = [s.split(' ')[0] for s in f['scopes']]
        families.append({
            'noun': noun,
            'synopsis': SYNOPSIS[noun],
            'verbs': f['verbs'],
            'scopes': scopes,
            'type_names': f['object_types'],
            'user_property': USER_PROPERTY.get(noun),
            'properties': props,
        })
    out = {'enums': enums, 'families': families}
    with open(OUT, 'w') as fh:
        json.dump(out, fh, indent=1)
        fh.write('\n')
    print(f'wrote {OUT}: {len(families)} families', file=sys.stderr)


if __name__ == '__main__':
    main()
