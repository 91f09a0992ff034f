"""Ofsted files for tests, written as Ofsted publishes them."""

HEADER = (
    "URN,Provision type,Setting name,Organisation which owns the provider,Local authority,Postcode,Places,"
    "Registration status,Inspection event type,Inspection date,Overall experiences and progress of children and young people"
)

# The same rows as the shared sample file (fictional homes in the South West).
SAMPLE = (
    HEADER
    + """
SC900101,Children's home,Moorview House,Riverbank Care Ltd,Devon,EX4 6AB,4,Active,Full inspection,12/03/2019,Good
SC900101,Children's home,Moorview House,Riverbank Care Ltd,Devon,EX4 6AB,4,Active,Full inspection,20/02/2020,Requires improvement to be good
SC900102,Children's home,Harbour Lodge,Riverbank Care Ltd,Plymouth,PL1 2CD,3,Active,Full inspection,05/06/2019,Outstanding
SC900103,Children's home,Tamar Cottage,Westward Homes for Children CIC,Cornwall,PL15 7EF,2,Active,Full inspection,14/11/2019,Good
SC900104,Children's home,Dartside,Westward Homes for Children CIC,Torbay,TQ1 3GH,5,Active,Full inspection,,Not yet inspected
SC900105,Children's home,Quantock View,Levels Care Partnership,Somerset,TA1 4JK,4,Active,Full inspection,09/09/2019,Good
SC900105,Children's home,Quantock View,Levels Care Partnership,Somerset,TA1 4JK,4,Active,Full inspection,02/03/2020,Inadequate
2591234,Supported accommodation,Exe Steps,Levels Care Partnership,Devon,EX2 5LM,8,Active,,,
"""
)


def rows(*lines: str) -> str:
    """A file of the given rows, each `URN,name,provider,date,judgement` for brevity."""
    out = [HEADER]
    for line in lines:
        urn, name, provider, day, judgement = line.split(",")
        kind = "Interim inspection" if "effectiveness" in judgement else "Full inspection"
        out.append(f"{urn},Children's home,{name},{provider},Derby,,3,Active,{kind},{day},{judgement}")
    return "\n".join(out) + "\n"
