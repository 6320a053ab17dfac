/*
 * interp.c - a tokenizer, parser and tree-walking evaluator for "Tiny",
 * a small statement language with 64-bit integer variables, global arrays,
 * while loops, if/else, functions and recursion.
 *
 * Without arguments it runs a built-in program (primes, fibonacci,
 * factorials, gcd, a quicksort, Collatz, Hanoi, Ackermann, mutual
 * recursion) and prints its results.  With the argument "-" it reads the
 * program text from standard input instead.
 *
 * The language:
 *   program   := { func | stmt }
 *   func      := "func" NAME "(" [NAME {"," NAME}] ")" block
 *   stmt      := "var" NAME ["=" expr] ";" | "array" NAME "[" NUM "]" ";"
 *              | NAME "=" expr ";" | NAME "[" expr "]" "=" expr ";"
 *              | "if" "(" expr ")" stmt ["else" stmt]
 *              | "while" "(" expr ")" stmt | "break" ";"
 *              | "return" [expr] ";" | "print" item {"," item} ";"
 *              | block | expr ";"
 *   item      := STRING | expr
 *   expr      := the usual C precedence of || && == != < <= > >= + - * / %
 *                and the unary operators - and !
 * Top-level "var" declares a global; "var" inside a function declares a
 * local (function-wide scope).  Arrays are global only.  Arithmetic wraps
 * around modulo 2^64.  Errors print a message and exit with status 2.
 */
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 8192
#define MAX_NODES 8192
#define MAX_LIST 8192
#define MAX_NAME 32
#define MAX_STRING 64
#define MAX_GLOBALS 128
#define MAX_FUNCS 64
#define MAX_LOCALS 32
#define MAX_ARRAYS 16
#define HEAP_WORDS 16384
#define STACK_WORDS 8192
#define MAX_DEPTH 150
#define MAX_SOURCE 65536

/* ------------------------------------------------------------------ */
/* Errors                                                               */

__attribute__((noreturn, noinline)) static void die(const char *what, int line, const char *detail)
{
    fflush(stdout);
    fprintf(stderr, "tiny: %s at line %d%s%s\n", what, line, *detail ? ": " : "", detail);
    exit(2);
}

/* ------------------------------------------------------------------ */
/* Tokenizer                                                            */

enum tok_kind {
    T_EOF, T_NUM, T_NAME, T_STR,
    T_VAR, T_ARRAY, T_FUNC, T_IF, T_ELSE, T_WHILE, T_BREAK, T_RETURN, T_PRINT,
    T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_LBRACKET, T_RBRACKET,
    T_COMMA, T_SEMI, T_ASSIGN,
    T_OR, T_AND, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT, T_NOT
};

struct token {
    enum tok_kind kind;
    int line;
    int64_t num;
    char text[MAX_STRING];
};

static struct token tokens[MAX_TOKENS];
static int ntokens;

static const struct { const char *word; enum tok_kind kind; } keywords[] = {
    {"var", T_VAR}, {"array", T_ARRAY}, {"func", T_FUNC}, {"if", T_IF},
    {"else", T_ELSE}, {"while", T_WHILE}, {"break", T_BREAK},
    {"return", T_RETURN}, {"print", T_PRINT},
};

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

static struct token *add_token(enum tok_kind kind, int line)
{
    if (ntokens >= MAX_TOKENS)
        die("too many tokens", line, "program too long");
    struct token *t = &tokens[ntokens++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->line = line;
    return t;
}

static void tokenize(const char *src)
{
    int line = 1;
    const char *p = src;
    while (*p) {
        char c = *p;
        if (c == '\n') { line++; p++; continue; }
        if (c == ' ' || c == '\t' || c == '\r') { p++; continue; }
        if (c == '/' && p[1] == '/') {
            while (*p && *p != '\n') p++;
            continue;
        }
        if (is_digit(c)) {
            uint64_t v = 0;
            while (is_digit(*p)) v = v * 10 + (uint64_t)(*p++ - '0');
            add_token(T_NUM, line)->num = (int64_t)v;
            continue;
        }
        if (is_alpha(c)) {
            const char *s = p;
            while (is_alpha(*p) || is_digit(*p)) p++;
            size_t len = (size_t)(p - s);
            if (len >= MAX_NAME) die("name too long", line, s);
            enum tok_kind kind = T_NAME;
            for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
                if (strlen(keywords[k].word) == len && memcmp(keywords[k].word, s, len) == 0)
                    kind = keywords[k].kind;
            struct token *t = add_token(kind, line);
            memcpy(t->text, s, len);
            t->text[len] = 0;
            continue;
        }
        if (c == '"') {
            const char *s = ++p;
            while (*p && *p != '"' && *p != '\n') p++;
            if (*p != '"') die("unterminated string", line, s);
            size_t len = (size_t)(p - s);
            if (len >= MAX_STRING) die("string too long", line, s);
            struct token *t = add_token(T_STR, line);
            memcpy(t->text, s, len);
            t->text[len] = 0;
            p++;
            continue;
        }
        enum tok_kind kind;
        int two = 0;
        switch (c) {
        case '(': kind = T_LPAREN; break;
        case ')': kind = T_RPAREN; break;
        case '{': kind = T_LBRACE; break;
        case '}': kind = T_RBRACE; break;
        case '[': kind = T_LBRACKET; break;
        case ']': kind = T_RBRACKET; break;
        case ',': kind = T_COMMA; break;
        case ';': kind = T_SEMI; break;
        case '+': kind = T_PLUS; break;
        case '-': kind = T_MINUS; break;
        case '*': kind = T_STAR; break;
        case '/': kind = T_SLASH; break;
        case '%': kind = T_PERCENT; break;
        case '=': if (p[1] == '=') { kind = T_EQ; two = 1; } else kind = T_ASSIGN; break;
        case '!': if (p[1] == '=') { kind = T_NE; two = 1; } else kind = T_NOT; break;
        case '<': if (p[1] == '=') { kind = T_LE; two = 1; } else kind = T_LT; break;
        case '>': if (p[1] == '=') { kind = T_GE; two = 1; } else kind = T_GT; break;
        case '|':
        case '&':
            if (p[1] == c) { kind = c == '|' ? T_OR : T_AND; two = 1; break; }
            /* a single | or & is not an operator */
            /* fall through */
        default: {
            char bad[2] = {c, 0};
            die("unexpected character", line, bad);
            return;
        }
        }
        add_token(kind, line);
        p += two ? 2 : 1;
    }
    add_token(T_EOF, line);
}

/* ------------------------------------------------------------------ */
/* Syntax tree                                                          */

enum node_kind {
    /* expressions */
    N_NUM, N_LOCAL, N_GLOBAL, N_INDEX, N_CALL, N_BINARY, N_NEG, N_NOT, N_AND, N_OR,
    /* statements */
    S_EXPR, S_SET_LOCAL, S_SET_GLOBAL, S_SET_INDEX, S_IF, S_WHILE, S_BREAK,
    S_RETURN, S_PRINT, S_BLOCK, S_NOP
};

struct node {
    enum node_kind kind;
    int line;
    int op;          /* token kind of a binary operator */
    int64_t value;   /* number, slot, global index, array or function id */
    int a, b, c;     /* children (node indices, -1 for none) */
    int list, count; /* a run of node indices in lists[] */
};

static struct node nodes[MAX_NODES];
static int nnodes;
static int lists[MAX_LIST];
static int nlists;

/* print items: strings are stored as negative indices into strings[] */
static char strings[256][MAX_STRING];
static int nstrings;

struct func {
    char name[MAX_NAME];
    int nparams, nlocals;
    int body;        /* node index, -1 until defined */
    int line;        /* first use, for errors */
    char locals[MAX_LOCALS][MAX_NAME];
};

static struct func funcs[MAX_FUNCS];
static int nfuncs;
static char global_names[MAX_GLOBALS][MAX_NAME];
static int nglobals;
static int64_t globals[MAX_GLOBALS];

struct array {
    char name[MAX_NAME];
    int base, size;
};
static struct array arrays[MAX_ARRAYS];
static int narrays;
static int64_t heap[HEAP_WORDS];
static int heap_used;

static int top_level[MAX_LIST];
static int ntop;

static int new_node(enum node_kind kind, int line)
{
    if (nnodes >= MAX_NODES) die("too many nodes", line, "program too long");
    struct node *n = &nodes[nnodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = line;
    n->a = n->b = n->c = -1;
    return nnodes++;
}

static int store_list(const int *items, int count, int line)
{
    if (nlists + count > MAX_LIST) die("too many list items", line, "program too long");
    memcpy(&lists[nlists], items, sizeof(int) * (size_t)count);
    nlists += count;
    return nlists - count;
}

/* ------------------------------------------------------------------ */
/* Parser                                                               */

static int pos;
static struct func *current; /* function being parsed, NULL at top level */

static struct token *peek(void) { return &tokens[pos]; }

static struct token *expect(enum tok_kind kind, const char *what)
{
    struct token *t = &tokens[pos];
    if (t->kind != kind) die("syntax error", t->line, what);
    pos++;
    return t;
}

static int accept(enum tok_kind kind)
{
    if (tokens[pos].kind == kind) { pos++; return 1; }
    return 0;
}

static int find_local(const char *name)
{
    if (!current) return -1;
    for (int i = 0; i < current->nlocals; i++)
        if (strcmp(current->locals[i], name) == 0) return i;
    return -1;
}

static int find_global(const char *name)
{
    for (int i = 0; i < nglobals; i++)
        if (strcmp(global_names[i], name) == 0) return i;
    return -1;
}

static int find_array(const char *name)
{
    for (int i = 0; i < narrays; i++)
        if (strcmp(arrays[i].name, name) == 0) return i;
    return -1;
}

static int find_func(const char *name, int line)
{
    for (int i = 0; i < nfuncs; i++)
        if (strcmp(funcs[i].name, name) == 0) return i;
    if (nfuncs >= MAX_FUNCS) die("too many functions", line, name);
    struct func *f = &funcs[nfuncs];
    memset(f, 0, sizeof *f);
    strcpy(f->name, name);
    f->nparams = -1;
    f->body = -1;
    f->line = line;
    return nfuncs++;
}

static int declare_local(const char *name, int line)
{
    if (find_local(name) >= 0) die("duplicate local", line, name);
    if (current->nlocals >= MAX_LOCALS) die("too many locals", line, name);
    strcpy(current->locals[current->nlocals], name);
    return current->nlocals++;
}

static int parse_expr(void);

static int parse_primary(void)
{
    struct token *t = peek();
    if (accept(T_NUM)) {
        int n = new_node(N_NUM, t->line);
        nodes[n].value = t->num;
        return n;
    }
    if (accept(T_LPAREN)) {
        int n = parse_expr();
        expect(T_RPAREN, "expected )");
        return n;
    }
    if (accept(T_NAME)) {
        if (accept(T_LPAREN)) {
            int args[16], nargs = 0;
            if (!accept(T_RPAREN)) {
                do {
                    if (nargs >= 16) die("too many arguments", t->line, t->text);
                    args[nargs++] = parse_expr();
                } while (accept(T_COMMA));
                expect(T_RPAREN, "expected ) after arguments");
            }
            int n = new_node(N_CALL, t->line);
            nodes[n].value = find_func(t->text, t->line);
            nodes[n].list = store_list(args, nargs, t->line);
            nodes[n].count = nargs;
            return n;
        }
        if (accept(T_LBRACKET)) {
            int arr = find_array(t->text);
            if (arr < 0) die("unknown array", t->line, t->text);
            int n = new_node(N_INDEX, t->line);
            nodes[n].value = arr;
            nodes[n].a = parse_expr();
            expect(T_RBRACKET, "expected ]");
            return n;
        }
        int slot = find_local(t->text);
        if (slot >= 0) {
            int n = new_node(N_LOCAL, t->line);
            nodes[n].value = slot;
            return n;
        }
        int g = find_global(t->text);
        if (g < 0) die("unknown variable", t->line, t->text);
        int n = new_node(N_GLOBAL, t->line);
        nodes[n].value = g;
        return n;
    }
    die("syntax error", t->line, "expected an expression");
    return -1;
}

static int parse_unary(void)
{
    struct token *t = peek();
    if (accept(T_MINUS)) {
        int n = new_node(N_NEG, t->line);
        nodes[n].a = parse_unary();
        return n;
    }
    if (accept(T_NOT)) {
        int n = new_node(N_NOT, t->line);
        nodes[n].a = parse_unary();
        return n;
    }
    return parse_primary();
}

/* Binary operators by precedence level, loosest first. */
static const enum tok_kind levels[][4] = {
    {T_OR}, {T_AND}, {T_EQ, T_NE}, {T_LT, T_LE, T_GT, T_GE},
    {T_PLUS, T_MINUS}, {T_STAR, T_SLASH, T_PERCENT},
};
#define NLEVELS ((int)(sizeof levels / sizeof levels[0]))

static int parse_level(int level)
{
    if (level == NLEVELS) return parse_unary();
    int left = parse_level(level + 1);
    for (;;) {
        struct token *t = peek();
        int found = 0;
        for (int k = 0; k < 4 && levels[level][k]; k++)
            if (t->kind == levels[level][k]) found = 1;
        if (!found) return left;
        pos++;
        int right = parse_level(level + 1);
        enum node_kind kind = t->kind == T_OR ? N_OR : t->kind == T_AND ? N_AND : N_BINARY;
        int n = new_node(kind, t->line);
        nodes[n].op = t->kind;
        nodes[n].a = left;
        nodes[n].b = right;
        left = n;
    }
}

static int parse_expr(void) { return parse_level(0); }

static int parse_stmt(void);

static int parse_block(void)
{
    struct token *t = expect(T_LBRACE, "expected {");
    int items[256], count = 0;
    while (!accept(T_RBRACE)) {
        if (peek()->kind == T_EOF) die("syntax error", t->line, "unclosed {");
        if (count >= 256) die("block too long", t->line, "");
        items[count++] = parse_stmt();
    }
    int n = new_node(S_BLOCK, t->line);
    nodes[n].list = store_list(items, count, t->line);
    nodes[n].count = count;
    return n;
}

static int parse_assignment(struct token *t, int value_node)
{
    int slot = find_local(t->text);
    int n;
    if (slot >= 0) {
        n = new_node(S_SET_LOCAL, t->line);
        nodes[n].value = slot;
    } else {
        int g = find_global(t->text);
        if (g < 0) die("unknown variable", t->line, t->text);
        n = new_node(S_SET_GLOBAL, t->line);
        nodes[n].value = g;
    }
    nodes[n].a = value_node;
    return n;
}

static int parse_stmt(void)
{
    struct token *t = peek();
    int n;
    switch (t->kind) {
    case T_LBRACE:
        return parse_block();
    case T_VAR: {
        pos++;
        struct token *name = expect(T_NAME, "expected a name after var");
        int init = -1;
        if (accept(T_ASSIGN)) init = parse_expr();
        expect(T_SEMI, "expected ; after var");
        if (current) {
            int slot = declare_local(name->text, name->line);
            n = new_node(S_SET_LOCAL, t->line);
            nodes[n].value = slot;
        } else {
            if (find_global(name->text) >= 0) die("duplicate global", name->line, name->text);
            if (nglobals >= MAX_GLOBALS) die("too many globals", name->line, name->text);
            strcpy(global_names[nglobals], name->text);
            n = new_node(S_SET_GLOBAL, t->line);
            nodes[n].value = nglobals++;
        }
        if (init < 0) {
            init = new_node(N_NUM, t->line);
            nodes[init].value = 0;
        }
        nodes[n].a = init;
        return n;
    }
    case T_ARRAY: {
        pos++;
        struct token *name = expect(T_NAME, "expected a name after array");
        expect(T_LBRACKET, "expected [");
        struct token *size = expect(T_NUM, "expected an array size");
        expect(T_RBRACKET, "expected ]");
        expect(T_SEMI, "expected ; after array");
        if (current) die("arrays must be global", t->line, name->text);
        if (find_array(name->text) >= 0) die("duplicate array", t->line, name->text);
        if (narrays >= MAX_ARRAYS || size->num <= 0 || size->num > HEAP_WORDS - heap_used)
            die("cannot allocate array", t->line, name->text);
        strcpy(arrays[narrays].name, name->text);
        arrays[narrays].base = heap_used;
        arrays[narrays].size = (int)size->num;
        heap_used += (int)size->num;
        narrays++;
        return new_node(S_NOP, t->line);
    }
    case T_IF:
        pos++;
        n = new_node(S_IF, t->line);
        expect(T_LPAREN, "expected ( after if");
        nodes[n].a = parse_expr();
        expect(T_RPAREN, "expected ) after condition");
        nodes[n].b = parse_stmt();
        if (accept(T_ELSE)) nodes[n].c = parse_stmt();
        return n;
    case T_WHILE:
        pos++;
        n = new_node(S_WHILE, t->line);
        expect(T_LPAREN, "expected ( after while");
        nodes[n].a = parse_expr();
        expect(T_RPAREN, "expected ) after condition");
        nodes[n].b = parse_stmt();
        return n;
    case T_BREAK:
        pos++;
        expect(T_SEMI, "expected ; after break");
        return new_node(S_BREAK, t->line);
    case T_RETURN:
        pos++;
        if (!current) die("return outside a function", t->line, "");
        n = new_node(S_RETURN, t->line);
        if (!accept(T_SEMI)) {
            nodes[n].a = parse_expr();
            expect(T_SEMI, "expected ; after return");
        }
        return n;
    case T_PRINT: {
        pos++;
        int items[32], count = 0;
        do {
            if (count >= 32) die("too many print items", t->line, "");
            struct token *s = peek();
            if (accept(T_STR)) {
                if (nstrings >= 256) die("too many strings", s->line, s->text);
                strcpy(strings[nstrings], s->text);
                items[count++] = -1 - nstrings++;
            } else {
                items[count++] = parse_expr();
            }
        } while (accept(T_COMMA));
        expect(T_SEMI, "expected ; after print");
        n = new_node(S_PRINT, t->line);
        nodes[n].list = store_list(items, count, t->line);
        nodes[n].count = count;
        return n;
    }
    case T_NAME:
        if (tokens[pos + 1].kind == T_ASSIGN) {
            pos += 2;
            int value = parse_expr();
            expect(T_SEMI, "expected ; after assignment");
            return parse_assignment(t, value);
        }
        if (tokens[pos + 1].kind == T_LBRACKET) {
            /* either a[i] = e; or an expression statement starting a[i] */
            int save = pos;
            int index = parse_primary();
            if (accept(T_ASSIGN)) {
                n = new_node(S_SET_INDEX, t->line);
                nodes[n].value = nodes[index].value;
                nodes[n].a = nodes[index].a;
                nodes[n].b = parse_expr();
                expect(T_SEMI, "expected ; after assignment");
                return n;
            }
            pos = save;
        }
        break;
    default:
        break;
    }
    n = new_node(S_EXPR, t->line);
    nodes[n].a = parse_expr();
    expect(T_SEMI, "expected ;");
    return n;
}

static void parse_func(void)
{
    struct token *t = expect(T_FUNC, "expected func");
    struct token *name = expect(T_NAME, "expected a function name");
    int id = find_func(name->text, name->line);
    struct func *f = &funcs[id];
    if (f->body >= 0) die("duplicate function", name->line, name->text);
    current = f;
    f->nlocals = 0;
    expect(T_LPAREN, "expected ( after function name");
    if (!accept(T_RPAREN)) {
        do {
            struct token *param = expect(T_NAME, "expected a parameter name");
            declare_local(param->text, param->line);
        } while (accept(T_COMMA));
        expect(T_RPAREN, "expected ) after parameters");
    }
    f->nparams = f->nlocals;
    f->line = t->line;
    f->body = parse_block();
    current = NULL;
}

static void parse_program(void)
{
    pos = 0;
    while (peek()->kind != T_EOF) {
        if (peek()->kind == T_FUNC) {
            parse_func();
        } else {
            if (ntop >= MAX_LIST) die("program too long", peek()->line, "");
            top_level[ntop++] = parse_stmt();
        }
    }
    for (int i = 0; i < nfuncs; i++)
        if (funcs[i].body < 0) die("undefined function", funcs[i].line, funcs[i].name);
    for (int i = 0; i < nnodes; i++)
        if (nodes[i].kind == N_CALL && nodes[i].count != funcs[nodes[i].value].nparams)
            die("wrong number of arguments", nodes[i].line, funcs[nodes[i].value].name);
}

/* ------------------------------------------------------------------ */
/* Evaluator                                                            */

static int64_t stack[STACK_WORDS];
static int sp;      /* first free slot */
static int fp;      /* base of the current frame */
static int depth, max_depth;
static uint64_t steps;
static int64_t return_value;

enum flow { F_NORMAL, F_BREAK, F_RETURN };

static int64_t eval(int n);

/* Kept out of line so that its buffer does not enlarge the frames of the
 * recursive evaluator functions (the wasm32 stack is only 64 KiB). */
__attribute__((noinline)) static void index_error(const struct node *nd, int64_t index)
{
    char msg[64];
    snprintf(msg, sizeof msg, "%s[%" PRId64 "]", arrays[nd->value].name, index);
    die("index out of bounds", nd->line, msg);
}

static int64_t *element(const struct node *nd, int64_t index)
{
    const struct array *arr = &arrays[nd->value];
    if (index < 0 || index >= arr->size) index_error(nd, index);
    return &heap[arr->base + index];
}

static enum flow exec(int n);

static int64_t call(const struct node *nd)
{
    const struct func *f = &funcs[nd->value];
    if (depth >= MAX_DEPTH) die("recursion too deep", nd->line, f->name);
    if (sp + f->nlocals > STACK_WORDS) die("stack overflow", nd->line, f->name);
    int base = sp;
    for (int i = 0; i < nd->count; i++) {
        int64_t v = eval(lists[nd->list + i]);
        stack[base + i] = v;
        sp = base + i + 1; /* keep evaluated arguments safe from nested calls */
    }
    for (int i = f->nparams; i < f->nlocals; i++) stack[base + i] = 0;
    sp = base + f->nlocals;
    int saved_fp = fp;
    fp = base;
    depth++;
    if (depth > max_depth) max_depth = depth;
    int64_t result = exec(f->body) == F_RETURN ? return_value : 0;
    depth--;
    fp = saved_fp;
    sp = base;
    return result;
}

static int64_t binary(int op, int64_t l, int64_t r, int line)
{
    uint64_t ul = (uint64_t)l, ur = (uint64_t)r;
    switch (op) {
    case T_PLUS: return (int64_t)(ul + ur);
    case T_MINUS: return (int64_t)(ul - ur);
    case T_STAR: return (int64_t)(ul * ur);
    case T_SLASH:
    case T_PERCENT:
        if (r == 0) die("division by zero", line, "");
        if (r == -1) return op == T_SLASH ? (int64_t)(0 - ul) : 0;
        return op == T_SLASH ? l / r : l % r;
    case T_EQ: return l == r;
    case T_NE: return l != r;
    case T_LT: return l < r;
    case T_LE: return l <= r;
    case T_GT: return l > r;
    case T_GE: return l >= r;
    }
    die("internal error", line, "bad operator");
    return 0;
}

static int64_t eval(int n)
{
    const struct node *nd = &nodes[n];
    steps++;
    switch (nd->kind) {
    case N_NUM: return nd->value;
    case N_LOCAL: return stack[fp + nd->value];
    case N_GLOBAL: return globals[nd->value];
    case N_INDEX: return *element(nd, eval(nd->a));
    case N_CALL: return call(nd);
    case N_BINARY: {
        int64_t l = eval(nd->a);
        int64_t r = eval(nd->b);
        return binary(nd->op, l, r, nd->line);
    }
    case N_NEG: return (int64_t)(0 - (uint64_t)eval(nd->a));
    case N_NOT: return !eval(nd->a);
    case N_AND: return eval(nd->a) && eval(nd->b);
    case N_OR: return eval(nd->a) || eval(nd->b);
    default: break;
    }
    die("internal error", nd->line, "not an expression");
    return 0;
}

static enum flow exec(int n)
{
    const struct node *nd = &nodes[n];
    steps++;
    switch (nd->kind) {
    case S_NOP: return F_NORMAL;
    case S_EXPR: eval(nd->a); return F_NORMAL;
    case S_SET_LOCAL: stack[fp + nd->value] = eval(nd->a); return F_NORMAL;
    case S_SET_GLOBAL: globals[nd->value] = eval(nd->a); return F_NORMAL;
    case S_SET_INDEX: {
        int64_t index = eval(nd->a);
        int64_t value = eval(nd->b);
        *element(nd, index) = value;
        return F_NORMAL;
    }
    case S_IF:
        if (eval(nd->a)) return exec(nd->b);
        if (nd->c >= 0) return exec(nd->c);
        return F_NORMAL;
    case S_WHILE:
        while (eval(nd->a)) {
            enum flow f = exec(nd->b);
            if (f == F_BREAK) break;
            if (f == F_RETURN) return f;
        }
        return F_NORMAL;
    case S_BREAK: return F_BREAK;
    case S_RETURN:
        return_value = nd->a >= 0 ? eval(nd->a) : 0;
        return F_RETURN;
    case S_PRINT:
        for (int i = 0; i < nd->count; i++) {
            int item = lists[nd->list + i];
            if (i) putchar(' ');
            if (item < 0) fputs(strings[-1 - item], stdout);
            else printf("%" PRId64, eval(item));
        }
        putchar('\n');
        return F_NORMAL;
    case S_BLOCK:
        for (int i = 0; i < nd->count; i++) {
            enum flow f = exec(lists[nd->list + i]);
            if (f != F_NORMAL) return f;
        }
        return F_NORMAL;
    default: break;
    }
    die("internal error", nd->line, "not a statement");
    return F_NORMAL;
}

/* ------------------------------------------------------------------ */
/* The built-in program                                                 */

static const char builtin_program[] =
    "// primes below 1000 with a sieve\n"
    "array composite[1000];\n"
    "var count = 0;\n"
    "var last = 0;\n"
    "var i = 2;\n"
    "while (i < 1000) {\n"
    "    if (!composite[i]) {\n"
    "        count = count + 1;\n"
    "        last = i;\n"
    "        var j = i * i;\n"
    "        while (j < 1000) { composite[j] = 1; j = j + i; }\n"
    "    }\n"
    "    i = i + 1;\n"
    "}\n"
    "print \"primes below 1000:\", count, \"largest:\", last;\n"
    "print \"first primes:\", 2, 3, 5, 7, 11;\n"
    "\n"
    "func fib(n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2); }\n"
    "func fib_iter(n) {\n"
    "    var a = 0; var b = 1;\n"
    "    while (n > 0) { var t = a + b; a = b; b = t; n = n - 1; }\n"
    "    return a;\n"
    "}\n"
    "print \"fib(20) =\", fib(20);\n"
    "print \"fib(90) =\", fib_iter(90);\n"
    "\n"
    "func fact(n) { if (n <= 1) return 1; return n * fact(n - 1); }\n"
    "print \"20! =\", fact(20);\n"
    "print \"25! mod 2^64 =\", fact(25);\n"
    "\n"
    "func gcd(a, b) { while (b != 0) { var t = b; b = a % b; a = t; } return a; }\n"
    "print \"gcd(1071, 462) =\", gcd(1071, 462), \"gcd(2^40, 6^20) =\", gcd(1099511627776, 3656158440062976);\n"
    "\n"
    "func isqrt(n) {\n"
    "    if (n < 2) return n;\n"
    "    var x = n / 2 + 1; var y = (x + n / x) / 2;\n"
    "    while (y < x) { x = y; y = (x + n / x) / 2; }\n"
    "    return x;\n"
    "}\n"
    "print \"isqrt:\", isqrt(0), isqrt(15), isqrt(16), isqrt(1000000007), isqrt(9223372036854775807);\n"
    "\n"
    "func collatz(n) {\n"
    "    var steps = 0;\n"
    "    while (n != 1) { if (n % 2 == 0) n = n / 2; else n = 3 * n + 1; steps = steps + 1; }\n"
    "    return steps;\n"
    "}\n"
    "var best = 0; var best_n = 0; var k = 1;\n"
    "while (k < 3000) { var s = collatz(k); if (s > best) { best = s; best_n = k; } k = k + 1; }\n"
    "print \"longest collatz below 3000:\", best_n, \"steps:\", best;\n"
    "\n"
    "array data[200];\n"
    "var seed = 12345;\n"
    "func rand() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed; }\n"
    "func swap(i, j) { var t = data[i]; data[i] = data[j]; data[j] = t; }\n"
    "func quicksort(lo, hi) {\n"
    "    if (lo >= hi) return;\n"
    "    var p = data[(lo + hi) / 2]; var i = lo; var j = hi;\n"
    "    while (i <= j) {\n"
    "        while (data[i] < p) i = i + 1;\n"
    "        while (data[j] > p) j = j - 1;\n"
    "        if (i <= j) { swap(i, j); i = i + 1; j = j - 1; }\n"
    "    }\n"
    "    quicksort(lo, j);\n"
    "    quicksort(i, hi);\n"
    "}\n"
    "var n = 0; var sum = 0;\n"
    "while (n < 200) { data[n] = rand() % 10000 - 5000; sum = sum + data[n]; n = n + 1; }\n"
    "quicksort(0, 199);\n"
    "var sorted = 1; var check = 0; n = 0;\n"
    "while (n < 200) {\n"
    "    if (n > 0 && data[n - 1] > data[n]) sorted = 0;\n"
    "    check = (check * 31 + data[n]) % 1000000007;\n"
    "    n = n + 1;\n"
    "}\n"
    "print \"sorted:\", sorted, \"sum:\", sum, \"checksum:\", check;\n"
    "print \"min:\", data[0], \"median:\", data[100], \"max:\", data[199];\n"
    "\n"
    "func hanoi(n, from, to, via) {\n"
    "    if (n == 0) return 0;\n"
    "    return hanoi(n - 1, from, via, to) + 1 + hanoi(n - 1, via, to, from);\n"
    "}\n"
    "print \"hanoi(12) moves:\", hanoi(12, 1, 3, 2);\n"
    "\n"
    "func ack(m, n) {\n"
    "    if (m == 0) return n + 1;\n"
    "    if (n == 0) return ack(m - 1, 1);\n"
    "    return ack(m - 1, ack(m, n - 1));\n"
    "}\n"
    "print \"ack(2, 3) =\", ack(2, 3), \"ack(3, 3) =\", ack(3, 3);\n"
    "\n"
    "func is_even(n) { if (n == 0) return 1; return is_odd(n - 1); }\n"
    "func is_odd(n) { if (n == 0) return 0; return is_even(n - 1); }\n"
    "print \"is_even(101) =\", is_even(101), \"is_odd(101) =\", is_odd(101);\n"
    "\n"
    "var total = 0; var x = 0;\n"
    "while (1) {\n"
    "    x = x + 1;\n"
    "    if (x % 3 == 0 || x % 5 == 0) total = total + x;\n"
    "    if (x >= 999) break;\n"
    "}\n"
    "print \"multiples of 3 or 5 below 1000:\", total;\n"
    "print \"division:\", 7 / 2, -7 / 2, 7 % -2, -7 % 2, (0 - 9223372036854775807 - 1) / -1;\n";

static char source[MAX_SOURCE];

static const char *read_stdin(void)
{
    size_t len = 0;
    for (;;) {
        size_t got = fread(source + len, 1, sizeof source - 1 - len, stdin);
        if (got == 0) break;
        len += got;
        if (len == sizeof source - 1) die("program too long", 0, "stdin");
    }
    source[len] = 0;
    return source;
}

int main(int argc, char **argv)
{
    const char *src = builtin_program;
    if (argc > 1 && strcmp(argv[1], "-") == 0) src = read_stdin();
    tokenize(src);
    parse_program();
    printf("tiny: %d tokens, %d nodes, %d functions, %d globals, %d arrays\n",
           ntokens, nnodes, nfuncs, nglobals, narrays);
    for (int i = 0; i < ntop; i++) {
        enum flow f = exec(top_level[i]);
        if (f == F_BREAK) die("break outside a loop", nodes[top_level[i]].line, "");
    }
    printf("tiny: %" PRIu64 " steps, max call depth %d\n", steps, max_depth);
    return 0;
}
