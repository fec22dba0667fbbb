"""The DNS providers the monitor knows, each convention with the page it was read on.

Only what a provider's own help page (or API reference) says is recorded;
everything else stays unknown. docs/providers.md is generated from this module
(scripts/docgen.py), so the table cannot drift from the code. To add a
provider or a fact, see "How to add a provider" there.
"""

from __future__ import annotations

from .model import Fact, FormLabels, HostForm, Provider, Source, TargetForm, TxtQuotes, TxtSplit

READ = "2026-12-02"  # when the pages below were read (stored copies, through the project's search tool)

# -- Amazon Route 53 ---------------------------------------------------------------

_R53 = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/"
_R53_NS = Source(
    _R53 + "SOA-NSrecords.html",
    READ,
    "Route 53 name servers are named like ns-2048.awsdns-64.com, ns-2049.awsdns-65.net, "
    "ns-2050.awsdns-66.org and ns-2051.awsdns-67.co.uk.",
)
_R53_VALUES = Source(
    _R53 + "resource-record-sets-values-basic.html",
    READ,
    "The console's fields are Record name, Record type, Value and TTL (seconds); for a record at the "
    "hosted zone's own name, enter nothing (not even @) in the name field.",
)
_R53_TYPES = Source(
    _R53 + "ResourceRecordTypes.html",
    READ,
    "For a value that is a domain name the trailing dot is optional: Route 53 treats the name as fully "
    "qualified either way.",
)
_R53_TXT = Source(
    _R53 + "ResourceRecordTypes.html#TXTFormat",
    READ,
    "A TXT value is one or more strings in double quotes; a value over 255 characters must be broken "
    'into strings of at most 255 characters, each quoted, on one line: "String 1" "String 2".',
)
_R53_NAMES = Source(
    _R53 + "DomainNameFormat.html",
    READ,
    "The underscore is among the characters a name may contain without an escape code.",
)

ROUTE53 = Provider(
    id="route53",
    name_en="Route 53",
    name_ja="Route 53",
    ns=Fact((r"ns-\d+\.awsdns-\d+\.(com|net|org|co\.uk)",), _R53_NS),
    apex=Fact("", _R53_VALUES),
    target=Fact(TargetForm.ABSOLUTE, _R53_TYPES),
    underscore=Fact(True, _R53_NAMES),
    txt_quotes=Fact(TxtQuotes.REQUIRED, _R53_TXT),
    txt_split=Fact(TxtSplit.MANUAL, _R53_TXT),
    labels=Fact(FormLabels("en", "Record name", "Record type", "Value", "Value"), _R53_VALUES),
)

# -- Cloudflare ----------------------------------------------------------------------

_CF = "https://developers.cloudflare.com/dns/"
_CF_NS = Source(
    _CF + "nameservers/",
    READ,
    "Standard name servers are named NAME.ns.cloudflare.com (a proper name); Foundation DNS's advanced name "
    "servers are COLOR.foundationdns.com, .net and .org. Custom name servers are on the customer's own "
    "domain (not recognisable).",
)
_CF_TYPES = Source(
    _CF + "manage-dns-records/reference/dns-record-types/",
    READ,
    "A CNAME has the fields Name (a subdomain, or @ for the zone apex; underscores allowed but discouraged) "
    "and Target (a hostname such as example.com, taken as a full name); a TXT record's text goes in Content, "
    "and Cloudflare adds the double quotes when they are left out.",
)
_CF_SUBDOMAIN = Source(
    _CF + "manage-dns-records/how-to/create-subdomain/",
    READ,
    "A subdomain record's Name is the subdomain alone (blog, www, store).",
)
_CF_API = Source(
    "https://github.com/cloudflare/cloudflare-typescript/pull/1777",
    READ,
    "Cloudflare's API schema (its own SDK): TXT content is quoted character strings of up to 255 bytes "
    "each, and strings over that length are split automatically.",
    basis="API reference",
)

CLOUDFLARE = Provider(
    id="cloudflare",
    name_en="Cloudflare",
    name_ja="Cloudflare",
    ns=Fact((r"[a-z0-9-]+\.ns\.cloudflare\.com", r"[a-z0-9-]+\.foundationdns\.(com|net|org)"), _CF_NS),
    host=Fact(HostForm.RELATIVE, _CF_SUBDOMAIN),
    apex=Fact("@", _CF_TYPES),
    target=Fact(TargetForm.ABSOLUTE, _CF_TYPES),
    underscore=Fact(True, _CF_TYPES),
    txt_quotes=Fact(TxtQuotes.ADDED, _CF_TYPES),
    txt_split=Fact(TxtSplit.AUTO, _CF_API),
    labels=Fact(FormLabels("en", "Name", "Type", "Target", "Content"), _CF_TYPES),
)

# -- Google Cloud DNS ----------------------------------------------------------------

_GCP_RECORDS = Source(
    "https://cloud.google.com/dns/records/?hl=ja",
    READ,
    "Console, create a record set: in the [DNS 名] field enter the zone's subdomain (e.g. mail); the trailing "
    "dot is added automatically.",
)
_GCP_FORMAT = Source(
    "https://cloud.google.com/dns/docs/reference/json-record",
    READ,
    "Host names in a CNAME's or MX's data must end with a dot to be fully qualified.",
)

GOOGLE_CLOUD_DNS = Provider(
    id="google-cloud-dns",
    name_en="Google Cloud DNS",
    name_ja="Google Cloud DNS",
    host=Fact(HostForm.RELATIVE, _GCP_RECORDS),
    target=Fact(TargetForm.DOT, _GCP_FORMAT),
    labels=Fact(FormLabels("ja", host="DNS 名"), _GCP_RECORDS),
)

# -- Azure DNS -------------------------------------------------------------------------

_AZ = "https://learn.microsoft.com/en-us/azure/dns/"
_AZ_NS = Source(
    _AZ + "dns-domain-delegation",
    READ,
    "A zone's assigned Azure DNS name servers look like ns1-01.azure-dns.com, ns2-01.azure-dns.net, "
    "ns3-01.azure-dns.org and ns4-01.azure-dns.info.",
)
_AZ_RECORDS = Source(
    _AZ + "dns-zones-records",
    READ,
    "Record set names are relative (www), the zone apex is @, SRV names carry underscores (_sip._tcp.name); "
    "in the portal, PowerShell and CLI a TXT record is one string that is divided into 255-character "
    "segments automatically.",
)
_AZ_CNAME = Source(
    "https://learn.microsoft.com/en-us/dotnet/api/microsoft.azure.commands.dns.cnamerecord.cname",
    READ,
    "A CNAME record's canonical name is given without a terminating dot (Azure PowerShell; the tutorial "
    "dns-web-sites-custom-domain creates one to contoso.azurewebsites.net).",
    basis="API reference",
)

AZURE_DNS = Provider(
    id="azure-dns",
    name_en="Azure DNS",
    name_ja="Azure DNS",
    ns=Fact((r"ns[1-4]-\d+\.azure-dns\.(com|net|org|info)",), _AZ_NS),
    host=Fact(HostForm.RELATIVE, _AZ_RECORDS),
    apex=Fact("@", _AZ_RECORDS),
    target=Fact(TargetForm.ABSOLUTE, _AZ_CNAME),
    underscore=Fact(True, _AZ_RECORDS),
    txt_split=Fact(TxtSplit.AUTO, _AZ_RECORDS),
)

# -- Namecheap -------------------------------------------------------------------------

_NC_CNAME = Source(
    "https://www.namecheap.com/support/knowledgebase/article.aspx/9646/10/how-can-i-set-up-a-cname-record-for-my-domain",
    READ,
    "Advanced DNS: choose the Type, put the host (e.g. www) in Host and the target in Value. Namecheap adds "
    "the domain name itself, so enter mysubdomain, not mysubdomain.domain.tld; the bare domain is the @ "
    "host. The target must be a fully qualified domain name (nothing said about a trailing dot).",
)

_NC_NS = Source(
    "https://www.namecheap.com/support/knowledgebase/article.aspx/767/10/how-to-change-dns-for-a-domain/",
    READ,
    "Namecheap BasicDNS, the registrar's default DNS, is served by dns1.registrar-servers.com and "
    "dns2.registrar-servers.com (its Web Hosting DNS, dns1/dns2.namecheaphosting.com, is a cPanel zone, "
    "another form).",
)

NAMECHEAP = Provider(
    id="namecheap",
    name_en="Namecheap",
    name_ja="Namecheap",
    ns=Fact((r"dns[12]\.registrar-servers\.com",), _NC_NS),
    host=Fact(HostForm.RELATIVE, _NC_CNAME),
    apex=Fact("@", _NC_CNAME),
    labels=Fact(FormLabels("en", "Host", "Type", "Value", "Value"), _NC_CNAME),
)

# -- IONOS -------------------------------------------------------------------------------

_IONOS_CNAME = Source(
    "https://www.ionos.com/help/domains/configuring-cname-records-for-subdomains/configuring-a-cname-record-for-a-subdomain",
    READ,
    "ADD RECORD, then CNAME: enter the subdomain (www, shop) in the Hostname field and the fully qualified "
    "host name (without http://) in the Point to field (nothing said about a trailing dot).",
)
_IONOS_NS = Source(
    "https://www.ionos.es/ayuda/dominios/glosario-explicaciones-sobre-conceptos-y-temas-importantes/servidores-dns",
    READ,
    "IONOS name servers are ns1ZZZ.ui-dns.de, .biz, .org and .com, where ZZZ is a number from 016 to 126.",
)

IONOS = Provider(
    id="ionos",
    name_en="IONOS",
    name_ja="IONOS",
    ns=Fact((r"ns1(0(1[6-9]|[2-9]\d)|1([01]\d|2[0-6]))\.ui-dns\.(de|biz|org|com)",), _IONOS_NS),
    host=Fact(HostForm.RELATIVE, _IONOS_CNAME),
    labels=Fact(FormLabels("en", host="Hostname", cname_value="Point to"), _IONOS_CNAME),
)

# -- OVHcloud ----------------------------------------------------------------------------

_OVH = "https://github.com/ovh/docs/blob/develop/pages/web_cloud/domains/"
_OVH_ZONE = Source(
    _OVH + "dns_zone_edit/guide.en-gb.md",
    READ,
    "OVHcloud's guide 'Editing an OVHcloud DNS zone' (the source of help.ovhcloud.com): its NS are like "
    "dns19.ovh.net and ns19.ovh.net; a target typed without a final dot gets the domain appended, so end it "
    "with one; a TXT record entered through the assistant is limited to 255 characters (the text-mode editor "
    "has no such limit).",
)
_OVH_DKIM = Source(
    _OVH + "dns_zone_dkim/guide.en-gb.md",
    READ,
    "OVHcloud's DKIM guide: for a CNAME keep only selector._domainkey as the subdomain, because .mydomain.ovh "
    "is already filled in; add a full stop at the end of the target.",
)

OVH = Provider(
    id="ovh",
    name_en="OVHcloud",
    name_ja="OVHcloud",
    ns=Fact((r"(dns|ns)\d+\.ovh\.net",), _OVH_ZONE),
    host=Fact(HostForm.RELATIVE, _OVH_DKIM),
    target=Fact(TargetForm.DOT, _OVH_ZONE),
    underscore=Fact(True, _OVH_DKIM),
    txt_split=Fact(TxtSplit.LIMIT, _OVH_ZONE),
)

# -- さくらインターネット ----------------------------------------------------------------

_SAKURA = Source(
    "https://help.sakura.ad.jp/domain/2712/",
    READ,
    "The domain control panel (ドメインコントロールパネル) edits the zones on Sakura's designated name servers "
    "ns1.dns.ne.jp and ns2.dns.ne.jp; a TXT record (TXTレコード) takes at most 255 characters.",
)

SAKURA = Provider(
    id="sakura",
    name_en="Sakura Internet",
    name_ja="さくらインターネット",
    ns=Fact((r"ns[12]\.dns\.ne\.jp",), _SAKURA),
    txt_split=Fact(TxtSplit.LIMIT, _SAKURA),
)

# -- お名前.com ----------------------------------------------------------------------------

_ONAMAE_DOMAIN = Source(
    "https://www.onamae.com/",
    READ,
    "No help page listing the name servers was found; the name servers' host names (dns1.onamae.com, "
    "dns2.onamae.com) are in onamae.com, the domain of お名前.com's own site.",
    basis="own domain",
)

ONAMAE = Provider(
    id="onamae",
    name_en="Onamae.com",
    name_ja="お名前.com",
    ns=Fact((r"([a-z0-9-]+\.)+onamae\.com",), _ONAMAE_DOMAIN),
)

# -- Providers whose form conventions could not be sourced --------------------------------

GODADDY = Provider(id="godaddy", name_en="GoDaddy", name_ja="GoDaddy")
SQUARESPACE = Provider(id="squarespace", name_en="Squarespace Domains", name_ja="Squarespace Domains")
GANDI = Provider(id="gandi", name_en="Gandi", name_ja="Gandi")
DIGITALOCEAN = Provider(id="digitalocean", name_en="DigitalOcean", name_ja="DigitalOcean")
VALUE_DOMAIN = Provider(id="value-domain", name_en="Value-Domain", name_ja="バリュードメイン")
XSERVER = Provider(id="xserver", name_en="Xserver", name_ja="エックスサーバー")
MUUMUU = Provider(id="muumuu", name_en="Muumuu Domain", name_ja="ムームードメイン")
KAGOYA = Provider(id="kagoya", name_en="KAGOYA", name_ja="KAGOYA")
CONOHA = Provider(id="conoha", name_en="ConoHa", name_ja="ConoHa")

PROVIDERS: tuple[Provider, ...] = (
    ROUTE53,
    CLOUDFLARE,
    GOOGLE_CLOUD_DNS,
    AZURE_DNS,
    GODADDY,
    NAMECHEAP,
    SQUARESPACE,
    IONOS,
    OVH,
    GANDI,
    DIGITALOCEAN,
    ONAMAE,
    VALUE_DOMAIN,
    XSERVER,
    SAKURA,
    MUUMUU,
    KAGOYA,
    CONOHA,
)
