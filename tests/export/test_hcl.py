"""Golden tests of the HCL writer.

Every expected text below was checked with `terraform fmt -check` (Terraform 1.11 and 0.15): it
is the spec of fmt's canonical layout, written out by hand. The writer must reproduce it exactly.
"""

from __future__ import annotations

from typing import Any

import pytest

from export.hcl import (
    MAX_INLINE_LIST,
    Attribute,
    Blank,
    Block,
    Call,
    Comment,
    Conditional,
    Expr,
    Raw,
    Template,
    escape_string,
    render_block,
    render_expr,
    render_file,
)


def _locals(*attrs: Attribute | Blank | Comment | Block) -> str:
    return render_block(Block("locals", (), list(attrs)))


# ---------------------------------------------------------------------------------------------
# literals and escaping


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-7, "-7"),
        (42, "42"),
        (2.5, "2.5"),
        (3.0, "3"),
        (-1.0, "-1"),
        (1e20, "100000000000000000000"),
        (1e-05, "0.00001"),
        (-1.5e-07, "-0.00000015"),
        (1 / 3, "0.3333333333333333"),
        ("plain", '"plain"'),
        ("", '""'),
        ("ünïcode ✓ 中", '"ünïcode ✓ 中"'),
        (Raw("aws_vpc.main.id"), "aws_vpc.main.id"),
        (Raw("local.is_primary ? 1 : 0"), "local.is_primary ? 1 : 0"),
        ([], "[]"),
        ({}, "{}"),
        ((), "[]"),
    ],
)
def test_scalars(value: Any, text: str) -> None:
    assert render_expr(value) == text


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_numbers_are_rejected(value: float) -> None:
    with pytest.raises(ValueError):
        render_expr(value)


@pytest.mark.parametrize(
    ("literal", "escaped"),
    [
        ('say "hi"', 'say \\"hi\\"'),
        ("back\\slash", "back\\\\slash"),
        ("line one\nline two", "line one\\nline two"),
        ("tab\there\r", "tab\\there\\r"),
        ("bell\x07 del\x7f", "bell\\u0007 del\\u007f"),
        ("${var.x}", "$${var.x}"),
        ("%{ if x }", "%%{ if x }"),
        ("already $${x}", "already $$${x}"),
        ("a $ b % c {d} $", "a $ b % c {d} $"),
        ("ünïcode ✓", "ünïcode ✓"),
    ],
)
def test_escape_string(literal: str, escaped: str) -> None:
    assert escape_string(literal) == escaped


def test_literal_never_becomes_an_interpolation() -> None:
    text = _locals(
        Attribute("a", "arn:${not.a.ref}"),
        Attribute("b", "%{for x in y}"),
        Attribute("c", {"k": "${x}"}),
    )
    assert text == (
        "locals {\n"
        '  a = "arn:$${not.a.ref}"\n'
        '  b = "%%{for x in y}"\n'
        "  c = {\n"
        '    k = "$${x}"\n'
        "  }\n"
        "}\n"
    )


def test_multiline_string_is_one_line_with_escapes() -> None:
    text = _locals(Attribute("multi", 'line one\nline two\n\ttabbed "quoted"'))
    assert text == 'locals {\n  multi = "line one\\nline two\\n\\ttabbed \\"quoted\\""\n}\n'


# ---------------------------------------------------------------------------------------------
# templates


def test_template_interpolations_and_escaped_literal_parts() -> None:
    tpl = Template(("cost$", Raw("var.amount"), " at ${x}: ", Raw("local.n"), "%"))
    # A "$" just before "${" would read as the escape "$${", so it is written \u0024.
    assert render_expr(tpl) == '"cost\\u0024${var.amount} at $${x}: ${local.n}%"'
    assert render_expr(Template(())) == '""'
    assert render_expr(Template(("a", "", "b"))) == '"ab"'
    arn = Template(("arn:aws:iam::", Raw("data.aws_caller_identity.current.account_id"), ":root"))
    assert render_expr(arn) == '"arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"'


def test_lone_interpolation_is_unwrapped_only_as_an_attribute_value() -> None:
    # fmt rewrites `a = "${var.x}"` to `a = var.x`, but only for a whole attribute value.
    only = Template((Raw("var.x"),))
    text = _locals(
        Attribute("a", only),
        Attribute("b", Template(("", Raw("var.x"), ""))),
        Attribute("c", {"v": only}),
        Attribute("d", [only]),
        Attribute("e", Call("f", (only,))),
        Attribute("f", Conditional(Raw("var.c"), only, "z")),
    )
    assert text == (
        "locals {\n"
        "  a = var.x\n"
        "  b = var.x\n"
        "  c = {\n"
        '    v = "${var.x}"\n'
        "  }\n"
        '  d = ["${var.x}"]\n'
        '  e = f("${var.x}")\n'
        '  f = var.c ? "${var.x}" : "z"\n'
        "}\n"
    )


# ---------------------------------------------------------------------------------------------
# blocks and alignment


def test_nested_and_empty_blocks() -> None:
    block = Block(
        "resource",
        ("aws_security_group", "web"),
        [
            Attribute("name", "web"),
            Attribute("vpc_id", Raw("aws_vpc.main.id")),
            Block(
                "egress",
                (),
                [
                    Attribute("from_port", 0),
                    Attribute("to_port", 0),
                    Attribute("protocol", "-1"),
                    Attribute("cidr_blocks", ["0.0.0.0/0"]),
                ],
            ),
            Block("timeouts", (), []),
            Block("dynamic", ("ingress",), [Block("content", (), [Attribute("x", 1)])]),
        ],
    )
    assert render_block(block) == (
        'resource "aws_security_group" "web" {\n'
        '  name   = "web"\n'
        "  vpc_id = aws_vpc.main.id\n"
        "  egress {\n"
        "    from_port   = 0\n"
        "    to_port     = 0\n"
        '    protocol    = "-1"\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n'
        "  }\n"
        "  timeouts {}\n"
        '  dynamic "ingress" {\n'
        "    content {\n"
        "      x = 1\n"
        "    }\n"
        "  }\n"
        "}\n"
    )
    assert render_block(Block("data", ("aws_caller_identity", "current"))) == (
        'data "aws_caller_identity" "current" {}\n'
    )
    assert render_block(Block("backend", ('we"ird',), [])) == 'backend "we\\"ird" {}\n'


def test_alignment_runs_are_broken_by_multiline_values_comments_blanks_and_blocks() -> None:
    block = Block(
        "resource",
        ("aws_vpc", "main"),
        [
            Attribute("cidr_block", "10.0.0.0/16"),
            Attribute("enable_dns_support", True),
            # A multi-line value ends the run before it, keeps one space before its own `=`,
            # and the lines after it start a new run.
            Attribute("tags", {"Name": "main", "deployer:address": "aws_vpc.main"}),
            Attribute("count", 1),
            Attribute("x", 1),
            Comment("a comment line ends the run"),
            Attribute("longer_name", 2),
            Attribute("y", 3),
            Blank(),
            Attribute("z", 4),
            Attribute("zz", 5),
            Block("lifecycle", (), [Attribute("prevent_destroy", False)]),
            Attribute("after_block", None),
            Attribute("ab", []),
        ],
    )
    assert render_block(block) == (
        'resource "aws_vpc" "main" {\n'
        '  cidr_block         = "10.0.0.0/16"\n'
        "  enable_dns_support = true\n"
        "  tags = {\n"
        '    Name               = "main"\n'
        '    "deployer:address" = "aws_vpc.main"\n'
        "  }\n"
        "  count = 1\n"
        "  x     = 1\n"
        "  # a comment line ends the run\n"
        "  longer_name = 2\n"
        "  y           = 3\n"
        "\n"
        "  z  = 4\n"
        "  zz = 5\n"
        "  lifecycle {\n"
        "    prevent_destroy = false\n"
        "  }\n"
        "  after_block = null\n"
        "  ab          = []\n"
        "}\n"
    )


def test_multiline_comments_and_blank_lines_in_bodies_are_kept() -> None:
    block = Block("locals", (), [Blank(), Comment("two\n\nparagraphs"), Attribute("a", 1), Blank()])
    assert render_block(block) == "locals {\n\n  # two\n  #\n  # paragraphs\n  a = 1\n\n}\n"


def test_alignment_counts_characters_not_bytes() -> None:
    # fmt counts grapheme clusters: "é" written as e + combining acute is one column.
    text = _locals(Attribute("tags", {"e\u0301": 1, "中": 2, "abc": 3, "👍🏽": 4, "🇫🇷": 5}))
    assert text == (
        "locals {\n"
        "  tags = {\n"
        '    "e\u0301" = 1\n'
        '    "中" = 2\n'
        "    abc = 3\n"
        '    "👍🏽" = 4\n'
        '    "🇫🇷" = 5\n'
        "  }\n"
        "}\n"
    )


# ---------------------------------------------------------------------------------------------
# collections


def test_objects_quote_keys_that_are_not_identifiers() -> None:
    tags: dict[str | Raw, Expr] = {
        "Project": "payments",
        "deployer:address": "x",
        "é": "ünïcode",
        "with space": True,
        "cost-center": "42",
        "for": 1,
        "null": 2,
        Raw("(local.key)"): 3,
    }
    assert _locals(Attribute("tags", tags)) == (
        "locals {\n"
        "  tags = {\n"
        '    Project            = "payments"\n'
        '    "deployer:address" = "x"\n'
        '    "é"                = "ünïcode"\n'
        '    "with space"       = true\n'
        '    cost-center        = "42"\n'
        '    "for"              = 1\n'
        '    "null"             = 2\n'
        "    (local.key)        = 3\n"
        "  }\n"
        "}\n"
    )


def test_lists() -> None:
    cidrs = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "198.18.0.0/15"]
    text = _locals(
        Attribute("azs", ["us-east-1a", "us-east-1b"]),
        Attribute("ids", [Raw("aws_subnet.a.id"), Raw("aws_subnet.b.id")]),
        Attribute("nums", (1, 2.5, None, True)),
        Attribute("empty", []),
        Attribute("cidrs", cidrs),
        Attribute("nested", [[1, 2], ["a"], []]),
        Attribute(
            "ingress",
            [{"from_port": 443, "cidr_blocks": ["0.0.0.0/0"], "description": "https"}, {}],
        ),
    )
    assert text == (
        "locals {\n"
        '  azs   = ["us-east-1a", "us-east-1b"]\n'
        "  ids   = [aws_subnet.a.id, aws_subnet.b.id]\n"
        "  nums  = [1, 2.5, null, true]\n"
        "  empty = []\n"
        "  cidrs = [\n"
        '    "10.0.0.0/8",\n'
        '    "172.16.0.0/12",\n'
        '    "192.168.0.0/16",\n'
        '    "100.64.0.0/10",\n'
        '    "198.18.0.0/15",\n'
        "  ]\n"
        "  nested = [\n"
        "    [1, 2],\n"
        '    ["a"],\n'
        "    [],\n"
        "  ]\n"
        "  ingress = [\n"
        "    {\n"
        "      from_port   = 443\n"
        '      cidr_blocks = ["0.0.0.0/0"]\n'
        '      description = "https"\n'
        "    },\n"
        "    {},\n"
        "  ]\n"
        "}\n"
    )


def test_inline_list_width_limit() -> None:
    # ["xx…", "yy…"] is 1 + (n + 2) + 2 + (n + 2) + 1 characters.
    n = (MAX_INLINE_LIST - 8) // 2
    fits = ["x" * n, "y" * n]
    assert render_expr(fits) == f'["{"x" * n}", "{"y" * n}"]'
    assert len(render_expr(fits)) == MAX_INLINE_LIST
    too_long = ["x" * n, "y" * (n + 1)]
    assert render_expr(too_long) == f'[\n  "{"x" * n}",\n  "{"y" * (n + 1)}",\n]'


def test_nested_objects_and_dict_order_is_kept() -> None:
    value: dict[str, Expr] = {"b": {"c": None, "a": [1]}, "a": 1}
    assert render_expr(value) == "{\n  b = {\n    c = null\n    a = [1]\n  }\n  a = 1\n}"


# ---------------------------------------------------------------------------------------------
# calls and conditionals


POLICY: dict[str, Expr] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowRead",
            "Effect": "Allow",
            "Principal": {
                "AWS": Template(
                    ("arn:aws:iam::", Raw("data.aws_caller_identity.current.account_id"), ":root")
                )
            },
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [
                Raw("aws_s3_bucket.data.arn"),
                Template((Raw("aws_s3_bucket.data.arn"), "/*")),
            ],
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": Raw("local.account_id"),
                    "s3:x-amz-acl": "${not-interp}",
                }
            },
        },
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
    ],
}

POLICY_HCL = (
    "  policy = jsonencode({\n"
    '    Version = "2012-10-17"\n'
    "    Statement = [\n"
    "      {\n"
    '        Sid    = "AllowRead"\n'
    '        Effect = "Allow"\n'
    "        Principal = {\n"
    '          AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"\n'
    "        }\n"
    '        Action   = ["s3:GetObject", "s3:ListBucket"]\n'
    '        Resource = [aws_s3_bucket.data.arn, "${aws_s3_bucket.data.arn}/*"]\n'
    "        Condition = {\n"
    "          StringEquals = {\n"
    '            "aws:SourceAccount" = local.account_id\n'
    '            "s3:x-amz-acl"      = "$${not-interp}"\n'
    "          }\n"
    "        }\n"
    "      },\n"
    "      {\n"
    '        Effect   = "Deny"\n'
    '        Action   = "s3:*"\n'
    '        Resource = "*"\n'
    "      },\n"
    "    ]\n"
    "  })\n"
)


def test_jsonencode_policy() -> None:
    block = Block(
        "resource",
        ("aws_iam_policy", "read"),
        [Attribute("name", "read"), Attribute("policy", Call("jsonencode", (POLICY,)))],
    )
    assert render_block(block) == (
        'resource "aws_iam_policy" "read" {\n  name = "read"\n' + POLICY_HCL + "}\n"
    )


def test_calls() -> None:
    text = _locals(
        Attribute("lst", Call("tolist", ([Raw("aws_subnet.a.id")],))),
        Attribute("now", Call("timestamp")),
        Attribute("fn", Call("provider::aws::arn_parse", (Raw("var.arn"),))),
        Attribute("hash", Call("sha1", (Call("jsonencode", ({"a": [1, 2]},)),))),
        Attribute("merged", Call("merge", (Raw("local.tags"), {"Name": "x"}))),
        Attribute("both", Call("merge", ({"a": 1}, {"b": 2}))),
        Attribute("items", [Call("jsonencode", ({"x": 1},)), Call("upper", ("a",))]),
    )
    assert text == (
        "locals {\n"
        "  lst = tolist([aws_subnet.a.id])\n"
        "  now = timestamp()\n"
        "  fn  = provider::aws::arn_parse(var.arn)\n"
        "  hash = sha1(jsonencode({\n"
        "    a = [1, 2]\n"
        "  }))\n"
        "  merged = merge(local.tags, {\n"
        '    Name = "x"\n'
        "  })\n"
        # Not `merge({` … `}, {` … `})`: fmt would indent the `}, {` line one level deeper.
        "  both = merge(\n"
        "    {\n"
        "      a = 1\n"
        "    },\n"
        "    {\n"
        "      b = 2\n"
        "    },\n"
        "  )\n"
        "  items = [\n"
        "    jsonencode({\n"
        "      x = 1\n"
        "    }),\n"
        '    upper("a"),\n'
        "  ]\n"
        "}\n"
    )


def test_conditionals_are_single_line() -> None:
    text = _locals(
        Attribute("n", Conditional(Raw("local.is_primary"), 1, 0)),
        Attribute("pick", Conditional(Raw("local.is_primary"), {"a": 1, "bb": [1, 2]}, {})),
        Attribute(
            "nested",
            Conditional(
                Conditional(Raw("var.a"), True, False), None, Conditional(Raw("var.b"), "x", "y")
            ),
        ),
        Attribute("in_true", Conditional(Raw("var.a"), Conditional(Raw("var.b"), 1, 2), 3)),
    )
    assert text == (
        "locals {\n"
        "  n       = local.is_primary ? 1 : 0\n"
        "  pick    = local.is_primary ? { a = 1, bb = [1, 2] } : {}\n"
        '  nested  = (var.a ? true : false) ? null : var.b ? "x" : "y"\n'
        "  in_true = var.a ? (var.b ? 1 : 2) : 3\n"
        "}\n"
    )


# ---------------------------------------------------------------------------------------------
# files


def test_render_file_separates_blocks_by_one_blank_line() -> None:
    items: list[Attribute | Block | Blank | Comment] = [
        Comment("Generated by deployer."),
        Block(
            "terraform",
            (),
            [
                Attribute("required_version", ">= 1.6"),
                Blank(),
                Block(
                    "required_providers",
                    (),
                    [Attribute("aws", {"source": "hashicorp/aws", "version": "~> 6.47"})],
                ),
            ],
        ),
        Block("provider", ("aws",), [Attribute("region", "us-east-1")]),
        Blank(),
        Blank(),
        Comment("attached to the block below"),
        Block("data", ("aws_caller_identity", "current"), []),
        Blank(),
    ]
    assert render_file(items) == (
        "# Generated by deployer.\n"
        "terraform {\n"
        '  required_version = ">= 1.6"\n'
        "\n"
        "  required_providers {\n"
        "    aws = {\n"
        '      source  = "hashicorp/aws"\n'
        '      version = "~> 6.47"\n'
        "    }\n"
        "  }\n"
        "}\n"
        "\n"
        'provider "aws" {\n'
        '  region = "us-east-1"\n'
        "}\n"
        "\n"
        "# attached to the block below\n"
        'data "aws_caller_identity" "current" {}\n'
    )
    assert render_file([]) == ""


def test_tfvars_top_level_attributes_are_aligned() -> None:
    items: list[Attribute | Block | Blank | Comment] = [
        Attribute("environment", "dev"),
        Attribute("primary_region", "us-east-1"),
        Attribute("azs", ["us-east-1a", "us-east-1b"]),
        Attribute("tags", {"Owner": "team", "cost-center": "42"}),
        Attribute("enable", True),
        Attribute("only", Template((Raw("var.x"),))),
    ]
    assert render_file(items) == (
        'environment    = "dev"\n'
        'primary_region = "us-east-1"\n'
        'azs            = ["us-east-1a", "us-east-1b"]\n'
        "tags = {\n"
        '  Owner       = "team"\n'
        '  cost-center = "42"\n'
        "}\n"
        "enable = true\n"
        "only   = var.x\n"
    )


# ---------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    "build",
    [
        lambda: render_block(Block("locals", (), [Attribute("not valid", 1)])),
        lambda: render_block(Block("bad type", (), [])),
        lambda: render_block(Block("locals", (), [Attribute("a", 1), Attribute("a", 2)])),
        lambda: render_file([Attribute("a", 1), Block("x", ()), Attribute("a", 2)]),
        lambda: render_expr(Raw("a\nb")),
        lambda: render_expr(Raw("  ")),
        lambda: render_expr(Call("not a name", ())),
    ],
)
def test_invalid_input_raises_value_error(build: Any) -> None:
    with pytest.raises(ValueError):
        build()


@pytest.mark.parametrize("value", [object(), {1: "int key"}, Template((1,)), {1, 2}])  # type: ignore[arg-type]
def test_unsupported_values_raise_type_error(value: Any) -> None:
    with pytest.raises(TypeError):
        render_expr(value)


# ---------------------------------------------------------------------------------------------
# determinism and round trip


def _composite() -> list[Attribute | Block | Blank | Comment]:
    return [
        Comment("Generated by deployer."),
        Block(
            "resource",
            ("aws_vpc", "main"),
            [
                Attribute("cidr_block", "10.0.0.0/16"),
                Attribute("enable_dns_support", True),
                Attribute("count", Conditional(Raw("local.is_primary"), 1, 0)),
                Attribute("tags", {"Name": "main", "deployer:address": "aws_vpc.main"}),
                Block("lifecycle", (), [Attribute("ignore_changes", [Raw("tags")])]),
            ],
        ),
        Block(
            "resource",
            ("aws_iam_policy", "read"),
            [
                Attribute("name", "read ${literal}"),
                Attribute("policy", Call("jsonencode", (POLICY,))),
                Attribute("ratio", 0.5),
                Attribute("nothing", None),
            ],
        ),
        Block("output", ("vpc_id",), [Attribute("value", Raw("aws_vpc.main.id"))]),
    ]


def test_rendering_is_deterministic() -> None:
    first = render_file(_composite())
    assert render_file(_composite()) == first
    assert render_file(_composite()) == render_file(_composite())


def _plain(value: Any) -> Any:
    """Strip python-hcl2's bookkeeping keys and quotes (present or not depending on version)."""
    if isinstance(value, dict):
        return {
            _plain(k): _plain(v)
            for k, v in value.items()
            if k not in ("__is_block__", "__comments__")
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def test_round_trip_through_python_hcl2() -> None:
    hcl2 = pytest.importorskip("hcl2")
    parsed = _plain(hcl2.loads(render_file(_composite())))
    vpc = parsed["resource"][0]["aws_vpc"]["main"]
    assert vpc["cidr_block"] == "10.0.0.0/16"
    assert vpc["enable_dns_support"] is True
    assert vpc["count"] == "${local.is_primary ? 1 : 0}"
    assert vpc["tags"] == {"Name": "main", "deployer:address": "aws_vpc.main"}
    # python-hcl2 < 5 reports a bare reference as "${tags}", later versions as "tags".
    assert vpc["lifecycle"][0]["ignore_changes"][0] in ("tags", "${tags}")
    policy = parsed["resource"][1]["aws_iam_policy"]["read"]
    assert policy["ratio"] == 0.5
    assert policy["nothing"] is None
    assert policy["policy"].startswith("${jsonencode(")
    assert "data.aws_caller_identity.current.account_id" in policy["policy"]
    assert parsed["output"][0]["vpc_id"]["value"] == "${aws_vpc.main.id}"
