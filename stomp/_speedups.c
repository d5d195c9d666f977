/* The optional accelerator of stomp.codec.FrameDecoder: its hot loop, in C.
 *
 * scan() decodes the ordinary frames of a buffer and stops at the first thing that is not
 * ordinary: a partial frame, anything malformed, a limit exceeded, a CR in a header
 * section, an escape it does not know, a command outside STOMP's.  It then returns the
 * position of that frame (or EOL) and the pure-Python decoder, which is the reference,
 * takes over from there, so errors, their offsets and the decoder's state come from one
 * place only.  The frames it does decode must be exactly those the Python path would
 * decode (tests/unit/test_codec_speedups_diff.py compares the two).  When it stops at an
 * ordinary frame whose content-length body is still arriving (the end of a read, the
 * usual place for a large frame to be cut), it hands back that frame's decoded command
 * and headers too, which are what the Python path would decode from the same bytes.
 *
 * Input is untrusted network data: every index is checked against the buffer's length,
 * and the buffer's pointer and length are read again after any call that may run Python
 * code.  No state is kept between calls except immutable interned strings in the module
 * state, so the module needs no lock of its own.  Built against the limited API (abi3,
 * CPython 3.10 and later).
 *
 * BufferBase, the base class of stomp.aio.Subscription when the accelerator is used, gives
 * `async for` a message already buffered without a coroutine per message (see below).
 * MessageBase, a base class of stomp.aio.Message then, holds a message's attributes in C
 * fields, which scan() and route() fill without attribute lookups.
 */

#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x030A0000
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <structmember.h>

#include <string.h>

/* The commands of STOMP 1.0-1.2 (anything else goes back to the Python path). */
static const char *const COMMANDS[] = {
    "CONNECT", "STOMP", "CONNECTED", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK",
    "BEGIN", "COMMIT", "ABORT", "DISCONNECT", "MESSAGE", "RECEIPT", "ERROR",
};
#define N_COMMANDS ((int)(sizeof(COMMANDS) / sizeof(COMMANDS[0])))
#define MESSAGE_COMMAND 12 /* the index of "MESSAGE" */
/* Indexes of the commands whose headers are never escaped. */
#define IS_UNESCAPED_COMMAND(i) ((i) <= 2)

typedef struct {
    PyObject *commands[N_COMMANDS]; /* interned command strings */
    PyObject *s_cmd;
    PyObject *s_headers;
    PyObject *s_original_headers;
    PyObject *s_body;
    PyObject *s_subscription;
    PyObject *object_new;  /* object.__new__ */
    PyObject *empty_tuple;
    PyObject *buffer_type; /* BufferBase */
    PyObject *message_type; /* MessageBase */
    PyObject *next_type;   /* Next */
} module_state;

static module_state *
get_state(PyObject *module)
{
    return (module_state *)PyModule_GetState(module);
}

/* A frame's attributes as C fields (NULL: not set), for stomp.aio.Message (see below). */
typedef struct {
    PyObject_HEAD
    PyObject *cmd;
    PyObject *headers;
    PyObject *original_headers;
    PyObject *body;
    PyObject *subscription;
} MessageBase;

/* The buffer's bytes: bytes and bytearray only (what FrameDecoder passes). */
static int
get_buffer(PyObject *buf, const char **data, Py_ssize_t *size)
{
    if (PyBytes_Check(buf)) {
        char *p;
        if (PyBytes_AsStringAndSize(buf, &p, size) < 0)
            return -1;
        *data = p;
        return 0;
    }
    if (PyByteArray_Check(buf)) {
        *data = PyByteArray_AsString(buf);
        *size = PyByteArray_Size(buf);
        return *data == NULL ? -1 : 0;
    }
    PyErr_SetString(PyExc_TypeError, "scan() needs bytes or bytearray");
    return -1;
}

/* Position of the first "\n\n" lying wholly in [start, limit), or -1. */
static Py_ssize_t
find_blank_line(const char *b, Py_ssize_t start, Py_ssize_t limit)
{
    Py_ssize_t i = start;
    while (i + 1 < limit) {
        const char *lf = memchr(b + i, '\n', (size_t)(limit - 1 - i));
        if (lf == NULL)
            return -1;
        i = lf - b;
        if (b[i + 1] == '\n')
            return i;
        i += 1;
    }
    return -1;
}

/* The command's index in COMMANDS, or -1. */
static int
command_index(const char *s, Py_ssize_t n)
{
    if (n == 7 && memcmp(s, "MESSAGE", 7) == 0)
        return 12; /* (the one a client receives most) */
    for (int i = 0; i < N_COMMANDS; i++) {
        if ((Py_ssize_t)strlen(COMMANDS[i]) == n && memcmp(COMMANDS[i], s, (size_t)n) == 0)
            return i;
    }
    return -1;
}

/* Outcome of decoding a header name or value. */
#define SEG_OK 0
#define SEG_ERROR -1   /* a Python exception is set */
#define SEG_UNUSUAL -2 /* an escape the Python path must judge */

/* Decode the bytes [s, s + n) to str, undoing the escapes of the version (escapes: 0
 * none, 1 STOMP 1.1, 2 STOMP 1.2).  An undefined escape or a lone trailing backslash is
 * SEG_UNUSUAL: the Python path keeps it or raises, depending on its strict option.
 * Unescaping bytes before decoding gives the same text as the Python path's decoding and
 * then unescaping: every escape is ASCII, and an ASCII byte always ends a bad UTF-8
 * sequence, so the replacement characters fall the same way. */
static int
decode_segment(const char *s, Py_ssize_t n, int escapes, char *scratch, PyObject **out)
{
    if (escapes == 0 || n == 0 || memchr(s, '\\', (size_t)n) == NULL) {
        *out = PyUnicode_DecodeUTF8(s, n, "replace");
        return *out == NULL ? SEG_ERROR : SEG_OK;
    }
    Py_ssize_t j = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\\') {
            scratch[j++] = c;
            continue;
        }
        if (i + 1 >= n)
            return SEG_UNUSUAL;
        char code = s[++i];
        if (code == '\\')
            scratch[j++] = '\\';
        else if (code == 'n')
            scratch[j++] = '\n';
        else if (code == 'c')
            scratch[j++] = ':';
        else if (code == 'r' && escapes == 2)
            scratch[j++] = '\r';
        else
            return SEG_UNUSUAL;
    }
    *out = PyUnicode_DecodeUTF8(scratch, j, "replace");
    return *out == NULL ? SEG_ERROR : SEG_OK;
}

/* SEG_UNUSUAL when [s, s + n) holds an escape that decode_segment() would hand back.
 * (The value of a repeated header is dropped, but the Python path unescapes it first, and
 * in strict mode an undefined escape there is an error.) */
static int
check_escapes(const char *s, Py_ssize_t n, int escapes)
{
    if (escapes == 0)
        return SEG_OK;
    const char *p = memchr(s, '\\', (size_t)n);
    while (p != NULL) {
        Py_ssize_t i = p - s;
        if (i + 1 >= n)
            return SEG_UNUSUAL;
        char code = s[i + 1];
        if (!(code == '\\' || code == 'n' || code == 'c' || (code == 'r' && escapes == 2)))
            return SEG_UNUSUAL;
        p = i + 2 < n ? memchr(s + i + 2, '\\', (size_t)(n - i - 2)) : NULL;
    }
    return SEG_OK;
}

/* A per-call cache of header names and of each name's last value: a read holds many
 * frames with the same names, and often the same values, so their str objects are made
 * once per call.  It lives on the stack of one scan() call (nothing is shared between
 * calls or threads) and keeps copies of the bytes it matched, not pointers into the
 * buffer. */
#define CACHE_ENTRIES 24
#define CACHE_NAME_MAX 32
#define CACHE_VALUE_MAX 48

typedef struct {
    Py_ssize_t name_len;
    char name[CACHE_NAME_MAX];
    PyObject *name_str;
    Py_ssize_t value_len; /* -1: no value yet */
    char value[CACHE_VALUE_MAX];
    PyObject *value_str;
} cache_entry;

/* The shape of a recent frame's headers: its names (cached, distinct, in order), their
 * values and its dict.  A frame whose header lines have the same names in the same order
 * gets a copy of that dict with the values that differ set, which costs less than filling
 * a new dict (no resizing, no duplicate checks). */
#define SHAPE_MAX 16

typedef struct {
    int n; /* 0: no shape yet */
    cache_entry *names[SHAPE_MAX];
    PyObject *values[SHAPE_MAX];
    PyObject *dict;
} header_shape;

typedef struct {
    int used;
    cache_entry entries[CACHE_ENTRIES];
    header_shape shape;
} header_cache;

static void
shape_clear(header_shape *shape)
{
    for (int i = 0; i < shape->n; i++)
        Py_CLEAR(shape->values[i]);
    Py_CLEAR(shape->dict);
    shape->n = 0;
}

static void
cache_init(header_cache *cache)
{
    cache->used = 0;
    cache->shape.n = 0;
    cache->shape.dict = NULL;
}

static void
cache_clear(header_cache *cache)
{
    for (int i = 0; i < cache->used; i++) {
        Py_XDECREF(cache->entries[i].name_str);
        Py_XDECREF(cache->entries[i].value_str);
    }
    cache->used = 0;
    shape_clear(&cache->shape);
}

/* Make headers (a dict with these names, in order, and no others) the cache's shape. */
static int
shape_set(header_shape *shape, cache_entry *const *names, int n, PyObject *headers)
{
    shape_clear(shape);
    PyObject *dict = PyDict_Copy(headers);
    if (dict == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        PyObject *value = PyDict_GetItemWithError(dict, names[i]->name_str);
        if (value == NULL) {
            for (int j = 0; j < i; j++)
                Py_CLEAR(shape->values[j]);
            Py_DECREF(dict);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_RuntimeError, "scan(): a header went missing");
            return -1;
        }
        Py_INCREF(value);
        shape->values[i] = value;
        shape->names[i] = names[i];
    }
    shape->dict = dict;
    shape->n = n;
    return 0;
}

/* A new dict of the first n names of the shape and values (which it steals). */
static PyObject *
shape_prefix_dict(header_shape *shape, PyObject **values, int n)
{
    PyObject *dict = PyDict_New();
    int i = 0;
    if (dict != NULL) {
        for (; i < n; i++) {
            int failed = PyDict_SetItem(dict, shape->names[i]->name_str, values[i]);
            Py_CLEAR(values[i]);
            if (failed) {
                Py_CLEAR(dict);
                i++;
                break;
            }
        }
    }
    for (; i < n; i++)
        Py_CLEAR(values[i]);
    return dict;
}

/* The entry for the raw name [s, s + n) (not escaped), adding it if there is room; NULL
 * when it is not cached. */
static cache_entry *
cache_name(header_cache *cache, const char *s, Py_ssize_t n)
{
    for (int i = 0; i < cache->used; i++) {
        cache_entry *e = &cache->entries[i];
        if (e->name_len == n && memcmp(e->name, s, (size_t)n) == 0)
            return e;
    }
    if (n > CACHE_NAME_MAX || cache->used == CACHE_ENTRIES)
        return NULL;
    PyObject *str = PyUnicode_DecodeUTF8(s, n, "replace");
    if (str == NULL)
        return NULL; /* (the caller decodes it again and reports the error) */
    cache_entry *e = &cache->entries[cache->used++];
    e->name_len = n;
    memcpy(e->name, s, (size_t)n);
    e->name_str = str;
    e->value_len = -1;
    e->value_str = NULL;
    return e;
}

/* Parse the header lines [start, end) (each ends at an LF or at end) into a new dict,
 * *headers_out, the first occurrence of a name winning.  Sets *length to the
 * content-length's value (-1 when there is none).  Returns SEG_OK, SEG_ERROR or
 * SEG_UNUSUAL (*headers_out is then NULL).
 *
 * While the lines follow the cache's shape (its names, in order), their values are kept
 * aside and no dict is made; a frame that follows it to the end gets a copy of the
 * shape's dict.  One that leaves it gets a new dict of what followed, then goes on line by
 * line; if all its names were cached and distinct, it becomes the shape. */
static int
parse_headers(const char *b, Py_ssize_t start, Py_ssize_t end, int escapes,
              Py_ssize_t max_body, PyObject **headers_out, Py_ssize_t *length,
              header_cache *cache)
{
    char small[512];
    char *scratch = small;
    int result = SEG_OK;
    header_shape *shape = &cache->shape;
    PyObject *headers = NULL;
    PyObject *followed[SHAPE_MAX]; /* the values of the lines that follow the shape */
    int matched = 0;
    int following = shape->n > 0;
    cache_entry *names[SHAPE_MAX]; /* this frame's names, while cached and distinct */
    int n_names = 0;
    int shapeable = 1;
    *headers_out = NULL;
    *length = -1;
    if (escapes && end - start > (Py_ssize_t)sizeof(small)) {
        scratch = PyMem_Malloc((size_t)(end - start));
        if (scratch == NULL) {
            PyErr_NoMemory();
            return SEG_ERROR;
        }
    }
    Py_ssize_t line = start;
    while (line < end) {
        const char *lf = memchr(b + line, '\n', (size_t)(end - line));
        Py_ssize_t line_end = lf == NULL ? end : lf - b;
        const char *colon = memchr(b + line, ':', (size_t)(line_end - line));
        if (colon == NULL || colon == b + line) {
            result = SEG_UNUSUAL; /* no colon, or an empty name: an error */
            break;
        }
        Py_ssize_t name_len = colon - (b + line);
        Py_ssize_t value_start = name_len + line + 1;
        PyObject *name = NULL;
        cache_entry *entry = NULL;
        if (escapes == 0 || memchr(b + line, '\\', (size_t)name_len) == NULL)
            entry = cache_name(cache, b + line, name_len);
        if (entry != NULL) {
            name = entry->name_str;
            Py_INCREF(name);
        }
        else {
            PyErr_Clear();
            result = decode_segment(b + line, name_len, escapes, scratch, &name);
            if (result != SEG_OK)
                break;
        }
        if (following && (matched == shape->n || entry != shape->names[matched])) {
            /* It leaves the shape here: a dict of the lines that followed it. */
            following = 0;
            headers = shape_prefix_dict(shape, followed, matched);
            if (headers == NULL) {
                Py_DECREF(name);
                result = SEG_ERROR;
                break;
            }
        }
        int present;
        if (following)
            present = 0; /* (the shape's names are distinct) */
        else {
            if (headers == NULL && (headers = PyDict_New()) == NULL) {
                Py_DECREF(name);
                result = SEG_ERROR;
                break;
            }
            present = PyDict_Contains(headers, name);
        }
        if (present < 0) {
            Py_DECREF(name);
            result = SEG_ERROR;
            break;
        }
        if (present) {
            shapeable = 0;
            result = check_escapes(b + value_start, line_end - value_start, escapes);
            if (result != SEG_OK) {
                Py_DECREF(name);
                break;
            }
        }
        else {
            PyObject *value = NULL;
            Py_ssize_t value_len = line_end - value_start;
            if (entry != NULL && entry->value_len == value_len
                && memcmp(entry->value, b + value_start, (size_t)value_len) == 0) {
                value = entry->value_str; /* the same value as this name's last one */
                Py_INCREF(value);
            }
            else {
                result = decode_segment(b + value_start, value_len, escapes, scratch, &value);
                if (result != SEG_OK) {
                    Py_DECREF(name);
                    break;
                }
                if (entry != NULL && value_len <= CACHE_VALUE_MAX) {
                    Py_XDECREF(entry->value_str);
                    Py_INCREF(value);
                    entry->value_str = value;
                    entry->value_len = value_len;
                    memcpy(entry->value, b + value_start, (size_t)value_len);
                }
            }
            if (entry != NULL && n_names < SHAPE_MAX)
                names[n_names++] = entry;
            else
                shapeable = 0;
            if (following) {
                followed[matched++] = value;
            }
            else {
                int failed = PyDict_SetItem(headers, name, value);
                Py_DECREF(value);
                if (failed) {
                    Py_DECREF(name);
                    result = SEG_ERROR;
                    break;
                }
            }
            /* No escape can spell "content-length", so its raw name is its name. */
            if (name_len == 14 && memcmp(b + line, "content-length", 14) == 0) {
                Py_ssize_t digits = line_end - value_start;
                Py_ssize_t size = 0;
                if (digits < 1 || digits > 18) {
                    Py_DECREF(name);
                    result = SEG_UNUSUAL;
                    break;
                }
                for (Py_ssize_t i = value_start; i < line_end; i++) {
                    if (b[i] < '0' || b[i] > '9') {
                        size = -1;
                        break;
                    }
                    size = size * 10 + (b[i] - '0');
                }
                if (size < 0 || size > max_body) {
                    Py_DECREF(name);
                    result = SEG_UNUSUAL;
                    break;
                }
                *length = size;
            }
        }
        Py_DECREF(name);
        line = line_end + 1;
    }
    if (scratch != small)
        PyMem_Free(scratch);
    if (result != SEG_OK) {
        for (int i = 0; i < (following ? matched : 0); i++)
            Py_DECREF(followed[i]);
        Py_XDECREF(headers);
        return result;
    }
    if (following && matched == shape->n) {
        /* All its lines followed the shape: its dict, with the values that differ. */
        headers = PyDict_Copy(shape->dict);
        for (int i = 0; i < matched; i++) {
            if (headers != NULL && followed[i] != shape->values[i]
                && PyDict_SetItem(headers, shape->names[i]->name_str, followed[i]) < 0)
                Py_CLEAR(headers);
            Py_DECREF(followed[i]);
        }
        if (headers == NULL)
            return SEG_ERROR;
        *headers_out = headers;
        return SEG_OK;
    }
    if (following) /* (fewer lines than the shape has) */
        headers = shape_prefix_dict(shape, followed, matched);
    else if (headers == NULL)
        headers = PyDict_New();
    if (headers == NULL)
        return SEG_ERROR;
    if (shapeable && n_names > 0 && shape_set(shape, names, n_names, headers) < 0) {
        Py_DECREF(headers);
        return SEG_ERROR;
    }
    *headers_out = headers;
    return SEG_OK;
}

/* How scan() makes a frame of one class: frame_new(cls), or object's tp_new called at once
 * when frame_new is object.__new__ and cls inherits object's tp_new (what object.__new__
 * would call, without building its arguments). */
typedef struct {
    PyObject *args; /* (cls,) */
    newfunc direct; /* object's tp_new, or NULL */
    allocfunc fields; /* for a MessageBase with object's tp_new: its tp_alloc, or NULL */
} frame_maker;

static int
maker_init(module_state *st, frame_maker *maker, PyObject *frame_new, PyObject *cls)
{
    maker->direct = NULL;
    maker->fields = NULL;
    maker->args = PyTuple_Pack(1, cls);
    if (maker->args == NULL)
        return -1;
    if (frame_new == st->object_new && PyType_Check(cls)) {
        newfunc object_tp_new = (newfunc)PyType_GetSlot(&PyBaseObject_Type, Py_tp_new);
        if (PyType_GetSlot((PyTypeObject *)cls, Py_tp_new) == (void *)object_tp_new) {
            maker->direct = object_tp_new;
            /* (object's tp_new would also make room for a __dict__ it will not need: one
             * is made if an attribute of the class's own is ever set) */
            if (PyType_IsSubtype((PyTypeObject *)cls, (PyTypeObject *)st->message_type))
                maker->fields = (allocfunc)PyType_GetSlot((PyTypeObject *)cls, Py_tp_alloc);
        }
    }
    return 0;
}

/* A new frame: frame_new(frame_cls), then its four attributes (as the Python path);
 * original_headers is a copy of headers, or (share_original) the same dict. */
static PyObject *
make_frame(module_state *st, frame_maker *maker, PyObject *frame_new, int command,
           PyObject *headers, PyObject *body, int share_original)
{
    PyTypeObject *cls = (PyTypeObject *)PyTuple_GetItem(maker->args, 0);
    PyObject *original;
    if (share_original) {
        Py_INCREF(headers);
        original = headers;
    }
    else if ((original = PyDict_Copy(headers)) == NULL) {
        return NULL;
    }
    if (maker->fields != NULL) {
        MessageBase *message = (MessageBase *)maker->fields(cls, 0);
        if (message == NULL) {
            Py_DECREF(original);
            return NULL;
        }
        Py_INCREF(st->commands[command]);
        message->cmd = st->commands[command];
        Py_INCREF(headers);
        message->headers = headers;
        message->original_headers = original; /* (its reference) */
        Py_INCREF(body);
        message->body = body;
        return (PyObject *)message;
    }
    PyObject *frame = maker->direct != NULL ? maker->direct(cls, st->empty_tuple, NULL)
                                            : PyObject_Call(frame_new, maker->args, NULL);
    if (frame == NULL
        || PyObject_SetAttr(frame, st->s_cmd, st->commands[command]) < 0
        || PyObject_SetAttr(frame, st->s_headers, headers) < 0
        || PyObject_SetAttr(frame, st->s_original_headers, original) < 0
        || PyObject_SetAttr(frame, st->s_body, body) < 0) {
        Py_XDECREF(frame);
        Py_DECREF(original);
        return NULL;
    }
    Py_DECREF(original);
    return frame;
}

PyDoc_STRVAR(scan_doc,
"scan(buf, pos, frames, after_frame, escapes, max_header, max_body, auto_decode,\n"
"     frame_new, frame_cls, heartbeat, message_cls, message_shares)\n"
"     -> (pos, after_frame, partial)\n\n"
"Decode the ordinary frames of buf from pos, appending them (and heartbeat for each\n"
"heart-beat EOL) to frames (MESSAGE frames built as message_cls, the others as\n"
"frame_cls; a MESSAGE's original_headers is its headers dict itself when message_shares\n"
"is true, else a copy, as for the others); stop at the first thing that is not\n"
"ordinary and return its position, for the Python decoder to go on from there.\n"
"partial is None, or (command, headers, content_length, body_start) when it stopped\n"
"at an ordinary frame whose body is still arriving.  Internal to\n"
"stomp.codec.decode.FrameDecoder.");

static PyObject *
scan(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 13) {
        PyErr_SetString(PyExc_TypeError, "scan() takes 13 arguments");
        return NULL;
    }
    module_state *st = get_state(module);
    PyObject *buf = args[0];
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    PyObject *frames = args[2];
    int after_frame = PyObject_IsTrue(args[3]);
    long escapes = PyLong_AsLong(args[4]);
    Py_ssize_t max_header = PyLong_AsSsize_t(args[5]);
    Py_ssize_t max_body = PyLong_AsSsize_t(args[6]);
    int auto_decode = PyObject_IsTrue(args[7]);
    PyObject *frame_new = args[8];
    PyObject *frame_cls = args[9];
    PyObject *heartbeat = args[10];
    PyObject *message_cls = args[11];
    int message_shares = PyObject_IsTrue(args[12]);
    if (PyErr_Occurred())
        return NULL;
    if (!PyList_Check(frames)) {
        PyErr_SetString(PyExc_TypeError, "scan(): frames must be a list");
        return NULL;
    }
    if (escapes < 0 || escapes > 2) {
        PyErr_SetString(PyExc_ValueError, "scan(): escapes must be 0, 1 or 2");
        return NULL;
    }
    const char *b;
    Py_ssize_t end;
    if (get_buffer(buf, &b, &end) < 0)
        return NULL;
    if (pos < 0 || pos > end) {
        PyErr_SetString(PyExc_ValueError, "scan(): pos out of range");
        return NULL;
    }
    frame_maker plain_maker, message_maker;
    if (maker_init(st, &plain_maker, frame_new, frame_cls) < 0)
        return NULL;
    if (maker_init(st, &message_maker, frame_new, message_cls) < 0) {
        Py_DECREF(plain_maker.args);
        return NULL;
    }
    header_cache cache, raw_cache; /* names as escaped, and as they are (CONNECTED...) */
    cache_init(&cache);
    cache_init(&raw_cache);
    PyObject *partial = NULL; /* a frame whose body is still arriving, if it stops at one */
    /* Negative limits: the Python path applies them. */
    int limits_ok = max_header >= 0 && max_body >= 0;

    while (pos < end) {
        char c = b[pos];
        if (c == '\n' || c == '\r') { /* an EOL between frames */
            if (c == '\r') {
                if (pos + 1 >= end || b[pos + 1] != '\n')
                    break;
                pos += 2;
            }
            else {
                pos += 1;
            }
            if (!after_frame && PyList_Append(frames, heartbeat) < 0)
                goto error;
            continue;
        }
        if (!limits_ok)
            break;

        /* The header section ends at the first blank line, within the limit. */
        Py_ssize_t limit = max_header > end - pos - 3 ? end : pos + max_header + 3;
        Py_ssize_t head_end = find_blank_line(b, pos, limit);
        if (head_end < 0 || head_end - pos > max_header)
            break;
        if (memchr(b + pos, '\r', (size_t)(head_end - pos)) != NULL)
            break; /* CR LF line ends, or a stray CR: the Python path's rules */
        const char *lf = memchr(b + pos, '\n', (size_t)(head_end - pos));
        Py_ssize_t cmd_end = lf == NULL ? head_end : lf - b;
        int command = command_index(b + pos, cmd_end - pos);
        if (command < 0)
            break;
        int frame_escapes = IS_UNESCAPED_COMMAND(command) ? 0 : (int)escapes;

        PyObject *headers;
        Py_ssize_t length = -1;
        if (cmd_end < head_end) {
            int r = parse_headers(b, cmd_end + 1, head_end, frame_escapes, max_body, &headers,
                                  &length, frame_escapes ? &cache : &raw_cache);
            if (r != SEG_OK) {
                if (r == SEG_ERROR)
                    goto error;
                break;
            }
        }
        else if ((headers = PyDict_New()) == NULL) {
            goto error;
        }

        Py_ssize_t body_start = head_end + 2;
        Py_ssize_t body_end;
        if (length >= 0) {
            if (length >= end - body_start) {
                /* Still arriving: handed back with its decoded head, which the Python path
                 * keeps while the rest of the body comes (it would decode the same). */
                partial = Py_BuildValue("(OOnn)", st->commands[command], headers, length,
                                        body_start);
                Py_DECREF(headers);
                if (partial == NULL)
                    goto error;
                break;
            }
            if (b[body_start + length] != '\0') {
                Py_DECREF(headers);
                break; /* not followed by NUL: the Python path reports it */
            }
            body_end = body_start + length;
        }
        else {
            const char *nul = body_start < end
                ? memchr(b + body_start, '\0', (size_t)(end - body_start))
                : NULL;
            if (nul == NULL || nul - (b + body_start) > max_body) {
                Py_DECREF(headers);
                break;
            }
            body_end = nul - b;
        }

        PyObject *body = auto_decode
            ? PyUnicode_DecodeUTF8(b + body_start, body_end - body_start, "replace")
            : PyBytes_FromStringAndSize(b + body_start, body_end - body_start);
        if (body == NULL) {
            Py_DECREF(headers);
            goto error;
        }
        PyObject *frame = make_frame(
            st, command == MESSAGE_COMMAND ? &message_maker : &plain_maker, frame_new, command,
            headers, body, command == MESSAGE_COMMAND && message_shares);
        Py_DECREF(headers);
        Py_DECREF(body);
        if (frame == NULL)
            goto error;
        int failed = PyList_Append(frames, frame);
        Py_DECREF(frame);
        if (failed)
            goto error;
        pos = body_end + 1;
        after_frame = 1;
        /* Building the frame may have run Python code (a Frame with a __setattr__):
         * read the buffer again, and stop if it was resized. */
        Py_ssize_t old_end = end;
        if (get_buffer(buf, &b, &end) < 0)
            goto error;
        if (end != old_end) {
            PyErr_SetString(PyExc_RuntimeError, "scan(): the buffer changed size");
            goto error;
        }
    }
    Py_DECREF(plain_maker.args);
    Py_DECREF(message_maker.args);
    cache_clear(&cache);
    cache_clear(&raw_cache);
    PyObject *result = Py_BuildValue("(nOO)", pos, after_frame ? Py_True : Py_False,
                                     partial != NULL ? partial : Py_None);
    Py_XDECREF(partial);
    return result;

error:
    Py_XDECREF(partial);
    Py_DECREF(plain_maker.args);
    Py_DECREF(message_maker.args);
    cache_clear(&cache);
    cache_clear(&raw_cache);
    return NULL;
}

/* ---- stomp.aio.Subscription's `async for` ----------------------------------------------
 *
 * BufferBase holds a subscription's buffer (`_queue`, a collections.deque of messages,
 * with its append() and popleft() bound when it is set) and whether reading is held for it
 * (`_holding`); its __anext__ returns a Next.  Awaiting a Next takes the first buffered
 * message when there is one and reading is not held, without running any Python code but
 * deque.popleft(); otherwise it calls the subscription's
 * `_next()` coroutine (the pure-Python __anext__, which waits, releases a held reading and
 * raises at the end) and passes everything through it, throw() and close() too.  The
 * message is taken when the Next is first awaited, not when __anext__ is called: a Next
 * dropped, thrown into or closed before it runs (a task cancelled before it started) has
 * taken nothing; the `_next()` coroutine takes a message only once its wait is over, and
 * then returns it at once.
 */

typedef struct {
    PyObject_HEAD
    PyObject *queue; /* _queue */
    PyObject *put;   /* its append(), bound (set with it) */
    PyObject *take;  /* its popleft(), bound (set with it) */
    char holding;    /* _holding */
} BufferBase;

typedef struct {
    PyObject_HEAD
    PyObject *sub;   /* the subscription, until the first send */
    PyObject *inner; /* its _next() coroutine, when nothing could be taken at once */
} Next;

/* (the hot path's names and type, set by module_exec; strong references, replaced only by
 * another execution of the module, whose objects hold their own) */
static PyObject *next_type_ref;
static PyObject *s_append;
static PyObject *s_popleft;
static PyObject *s_next;

static PyObject *
buffer_get_queue(PyObject *self, void *Py_UNUSED(closure))
{
    PyObject *queue = ((BufferBase *)self)->queue;
    if (queue == NULL) {
        PyErr_SetString(PyExc_AttributeError, "_queue");
        return NULL;
    }
    Py_INCREF(queue);
    return queue;
}

/* Setting _queue also binds its append() and popleft(), for route() and Next. */
static int
buffer_set_queue(PyObject *self, PyObject *queue, void *Py_UNUSED(closure))
{
    BufferBase *buffer = (BufferBase *)self;
    PyObject *put = NULL, *take = NULL;
    if (queue != NULL) {
        put = PyObject_GetAttr(queue, s_append);
        take = put != NULL ? PyObject_GetAttr(queue, s_popleft) : NULL;
        if (take == NULL) {
            Py_XDECREF(put);
            return -1;
        }
        Py_INCREF(queue);
    }
    else if (buffer->queue == NULL) {
        PyErr_SetString(PyExc_AttributeError, "_queue");
        return -1;
    }
    PyObject *old[3] = {buffer->queue, buffer->put, buffer->take};
    buffer->queue = queue;
    buffer->put = put;
    buffer->take = take;
    for (int i = 0; i < 3; i++)
        Py_XDECREF(old[i]);
    return 0;
}

static PyGetSetDef buffer_getset[] = {
    {"_queue", buffer_get_queue, buffer_set_queue,
     "the buffered messages (a collections.deque)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef buffer_members[] = {
    {"_holding", T_BOOL, offsetof(BufferBase, holding), 0,
     "whether reading is held until messages are taken"},
    {NULL, 0, 0, 0, NULL},
};

static int
buffer_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((BufferBase *)self)->queue);
    Py_VISIT(((BufferBase *)self)->put);
    Py_VISIT(((BufferBase *)self)->take);
    return 0;
}

static int
buffer_clear(PyObject *self)
{
    Py_CLEAR(((BufferBase *)self)->queue);
    Py_CLEAR(((BufferBase *)self)->put);
    Py_CLEAR(((BufferBase *)self)->take);
    return 0;
}

/* The dealloc of this module's types: clear is the type's own tp_clear (not the slot of
 * Py_TYPE(self), which for a Python subclass of BufferBase is the subclass's). */
static void
dealloc_with(PyObject *self, inquiry clear)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    clear(self);
    freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    tp_free(self);
    Py_DECREF(tp);
}

static void
buffer_dealloc(PyObject *self)
{
    dealloc_with(self, buffer_clear);
}

/* MessageBase: cmd, headers, original_headers, body and subscription as C fields (an
 * AttributeError while unset, as for an instance attribute never set).  A class deriving
 * from it keeps its __dict__ for any other attribute. */

static PyMemberDef message_members[] = {
    {"cmd", T_OBJECT_EX, offsetof(MessageBase, cmd), 0, "the command"},
    {"headers", T_OBJECT_EX, offsetof(MessageBase, headers), 0, "the header map"},
    {"original_headers", T_OBJECT_EX, offsetof(MessageBase, original_headers), 0,
     "the headers as received"},
    {"body", T_OBJECT_EX, offsetof(MessageBase, body), 0, "the body"},
    {"subscription", T_OBJECT_EX, offsetof(MessageBase, subscription), 0,
     "the subscription it came on"},
    {NULL, 0, 0, 0, NULL},
};

static int
message_traverse(PyObject *self, visitproc visit, void *arg)
{
    MessageBase *message = (MessageBase *)self;
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(message->cmd);
    Py_VISIT(message->headers);
    Py_VISIT(message->original_headers);
    Py_VISIT(message->body);
    Py_VISIT(message->subscription);
    return 0;
}

static int
message_clear(PyObject *self)
{
    MessageBase *message = (MessageBase *)self;
    Py_CLEAR(message->cmd);
    Py_CLEAR(message->headers);
    Py_CLEAR(message->original_headers);
    Py_CLEAR(message->body);
    Py_CLEAR(message->subscription);
    return 0;
}

static void
message_dealloc(PyObject *self)
{
    dealloc_with(self, message_clear);
}

static PyType_Slot message_slots[] = {
    {Py_tp_doc, "A base of stomp.aio.Message with the C accelerator: its frame attributes "
                "and subscription as C fields (internal)."},
    {Py_tp_members, message_members},
    {Py_tp_traverse, message_traverse},
    {Py_tp_clear, message_clear},
    {Py_tp_dealloc, message_dealloc},
    {0, NULL},
};

static PyType_Spec message_spec = {
    "stomp._speedups.MessageBase",
    sizeof(MessageBase),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    message_slots,
};

static PyObject *
buffer_anext(PyObject *self)
{
    PyTypeObject *tp = (PyTypeObject *)next_type_ref;
    allocfunc alloc = (allocfunc)PyType_GetSlot(tp, Py_tp_alloc);
    Next *next = (Next *)alloc(tp, 0);
    if (next == NULL)
        return NULL;
    Py_INCREF(self);
    next->sub = self;
    next->inner = NULL;
    return (PyObject *)next;
}

static PyType_Slot buffer_slots[] = {
    {Py_tp_doc, "The base of stomp.aio.Subscription with the C accelerator: its buffer and "
                "`async for` without a coroutine per message (internal)."},
    {Py_tp_members, buffer_members},
    {Py_tp_getset, buffer_getset},
    {Py_tp_traverse, buffer_traverse},
    {Py_tp_clear, buffer_clear},
    {Py_tp_dealloc, buffer_dealloc},
    {Py_am_anext, buffer_anext},
    {0, NULL},
};

static PyType_Spec buffer_spec = {
    "stomp._speedups.BufferBase",
    sizeof(BufferBase),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    buffer_slots,
};

static PySendResult
next_send(PyObject *self, PyObject *arg, PyObject **result)
{
    Next *next = (Next *)self;
    *result = NULL;
    if (next->inner == NULL) {
        BufferBase *sub = (BufferBase *)next->sub;
        if (sub == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited __anext__()");
            return PYGEN_ERROR;
        }
        if (!sub->holding && sub->queue != NULL) {
            Py_ssize_t n = PyObject_Size(sub->queue);
            if (n < 0)
                return PYGEN_ERROR;
            if (n > 0) {
                PyObject *message = PyObject_CallNoArgs(sub->take);
                Py_CLEAR(next->sub);
                if (message == NULL)
                    return PYGEN_ERROR;
                *result = message;
                return PYGEN_RETURN;
            }
        }
        next->inner = PyObject_CallMethodObjArgs((PyObject *)sub, s_next, NULL);
        Py_CLEAR(next->sub);
        if (next->inner == NULL)
            return PYGEN_ERROR;
    }
    PySendResult status = PyIter_Send(next->inner, arg, result);
    if (status != PYGEN_NEXT)
        Py_CLEAR(next->inner);
    return status;
}

/* What send() gives back as a generator does: the value yielded, or StopIteration(value). */
static PyObject *
next_result(PySendResult status, PyObject *result)
{
    if (status == PYGEN_NEXT)
        return result;
    if (status == PYGEN_RETURN) {
        /* (an exception instance: a tuple result must not become its arguments) */
        PyObject *stop = PyObject_CallFunctionObjArgs(PyExc_StopIteration, result, NULL);
        Py_DECREF(result);
        if (stop != NULL) {
            PyErr_SetObject(PyExc_StopIteration, stop);
            Py_DECREF(stop);
        }
    }
    return NULL;
}

static PyObject *
next_iternext(PyObject *self)
{
    PyObject *result;
    PySendResult status = next_send(self, Py_None, &result);
    return next_result(status, result);
}

/* send(value), throw(exception) and close(), as a coroutine has them (Python 3.12 and
 * later send a value through send(); throw() and close() reach the _next() coroutine when
 * there is one, and a step that has not taken anything yet just ends). */
static PyObject *
next_send_method(PyObject *self, PyObject *value)
{
    PyObject *result;
    PySendResult status = next_send(self, value, &result);
    return next_result(status, result);
}

static PyObject *
next_throw(PyObject *self, PyObject *args)
{
    Next *next = (Next *)self;
    Py_CLEAR(next->sub); /* (not started: it takes nothing now) */
    if (next->inner != NULL) {
        PyObject *throw = PyObject_GetAttrString(next->inner, "throw");
        PyObject *result = throw == NULL ? NULL : PyObject_CallObject(throw, args);
        Py_XDECREF(throw);
        if (result == NULL)
            Py_CLEAR(next->inner); /* (it ended: returned, raised, or let the exception out) */
        return result;
    }
    PyObject *exc = PyTuple_Size(args) > 0 ? PyTuple_GetItem(args, 0) : NULL;
    if (exc != NULL && PyExceptionInstance_Check(exc)) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    }
    else if (exc != NULL && PyExceptionClass_Check(exc)) {
        PyObject *value = PyTuple_Size(args) > 1 ? PyTuple_GetItem(args, 1) : Py_None;
        PyErr_SetObject(exc, value);
    }
    else {
        PyErr_SetString(PyExc_TypeError, "throw() takes an exception or an exception class");
    }
    return NULL;
}

static PyObject *
next_close(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    Next *next = (Next *)self;
    Py_CLEAR(next->sub);
    if (next->inner != NULL) {
        PyObject *inner = next->inner;
        next->inner = NULL;
        PyObject *result = PyObject_CallMethod(inner, "close", NULL);
        Py_DECREF(inner);
        if (result == NULL)
            return NULL;
        Py_DECREF(result);
    }
    Py_RETURN_NONE;
}

static PyMethodDef next_methods[] = {
    {"send", next_send_method, METH_O, NULL},
    {"throw", next_throw, METH_VARARGS, NULL},
    {"close", next_close, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyObject *
next_await(PyObject *self)
{
    Py_INCREF(self);
    return self;
}

static int
next_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((Next *)self)->sub);
    Py_VISIT(((Next *)self)->inner);
    return 0;
}

static int
next_clear(PyObject *self)
{
    Py_CLEAR(((Next *)self)->sub);
    Py_CLEAR(((Next *)self)->inner);
    return 0;
}

static void
next_dealloc(PyObject *self)
{
    dealloc_with(self, next_clear);
}

static PyType_Slot next_slots[] = {
    {Py_tp_doc, "What Subscription.__anext__ returns with the C accelerator (internal)."},
    {Py_tp_iter, next_await},
    {Py_tp_iternext, next_iternext},
    {Py_am_await, next_await},
    {Py_am_send, next_send},
    {Py_tp_methods, next_methods},
    {Py_tp_traverse, next_traverse},
    {Py_tp_clear, next_clear},
    {Py_tp_dealloc, next_dealloc},
    {0, NULL},
};

static PyType_Spec next_spec = {
    "stomp._speedups.Next",
    sizeof(Next),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    next_slots,
};

PyDoc_STRVAR(route_doc,
"route(frames, subscriptions, message_cls, fed, /) -> int\n\n"
"stomp.aio's delivery of the frames of one read: each frame, from the first, that is a\n"
"message_cls (a MessageBase class) whose subscription header names one of subscriptions\n"
"(a dict of id to Subscription) gets that subscription as its `subscription` attribute\n"
"and is appended to its buffer; each subscription fed is appended to the list fed once.\n"
"Stops at the first other frame and returns its index (len(frames) when it routed them\n"
"all; 0 when message_cls is not a MessageBase), for the Python code to go on from there.");

static PyObject *
route(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "route() takes exactly 4 arguments");
        return NULL;
    }
    PyObject *frames = args[0], *subscriptions = args[1], *message_cls = args[2];
    PyObject *fed = args[3];
    if (!PyList_Check(frames) || !PyDict_Check(subscriptions) || !PyList_Check(fed)) {
        PyErr_SetString(PyExc_TypeError, "route() takes a list, a dict, a class and a list");
        return NULL;
    }
    module_state *st = get_state(module);
    PyTypeObject *buffer_type = (PyTypeObject *)st->buffer_type;
    PyObject *last = NULL; /* the last subscription fed */
    PyObject *result = NULL;
    Py_ssize_t i = 0;
    if (!PyType_Check(message_cls)
        || !PyType_IsSubtype((PyTypeObject *)message_cls, (PyTypeObject *)st->message_type))
        return PyLong_FromSsize_t(0); /* (not a MessageBase: all the Python code's) */
    for (; i < PyList_Size(frames); i++) {
        PyObject *frame = PyList_GetItem(frames, i); /* (borrowed; the list is the caller's) */
        if (frame == NULL)
            goto done;
        if ((PyObject *)Py_TYPE(frame) != message_cls)
            break;
        MessageBase *message = (MessageBase *)frame;
        PyObject *sub = NULL;
        if (message->headers != NULL && PyDict_Check(message->headers)) {
            /* (held: a lookup may run Python code, a key's __eq__) */
            PyObject *headers = message->headers;
            Py_INCREF(headers);
            PyObject *id = PyDict_GetItemWithError(headers, st->s_subscription);
            if (id != NULL && PyUnicode_Check(id))
                sub = PyDict_GetItemWithError(subscriptions, id);
            Py_DECREF(headers);
        }
        if (sub == NULL) {
            if (PyErr_Occurred())
                goto done;
            break; /* (no subscription header, or no such subscription: the Python code's) */
        }
        if (!PyObject_TypeCheck(sub, buffer_type) || ((BufferBase *)sub)->put == NULL)
            break;
        /* (sub and its put() held while Python code may run: `in fed`, the deque's
         * append(); either may drop the dict's or the subscription's reference) */
        PyObject *put = ((BufferBase *)sub)->put;
        Py_INCREF(sub);
        Py_INCREF(put);
        int failed = 0;
        if (sub != last) {
            Py_XDECREF(last);
            Py_INCREF(sub);
            last = sub;
            int known = PySequence_Contains(fed, sub);
            failed = known < 0 || (!known && PyList_Append(fed, sub) < 0);
        }
        if (!failed) {
            PyObject *old = message->subscription;
            Py_INCREF(sub);
            message->subscription = sub;
            Py_XDECREF(old);
        }
        PyObject *put_result = failed ? NULL : PyObject_CallFunctionObjArgs(put, frame, NULL);
        Py_DECREF(put);
        Py_DECREF(sub);
        if (put_result == NULL)
            goto done;
        Py_DECREF(put_result);
    }
    result = PyLong_FromSsize_t(i);
done:
    Py_XDECREF(last);
    return result;
}

static PyMethodDef methods[] = {
    {"route", (PyCFunction)(void (*)(void))route, METH_FASTCALL, route_doc},
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL, scan_doc},
    {NULL, NULL, 0, NULL},
};

static int
module_exec(PyObject *module)
{
    module_state *st = get_state(module);
    for (int i = 0; i < N_COMMANDS; i++) {
        st->commands[i] = PyUnicode_InternFromString(COMMANDS[i]);
        if (st->commands[i] == NULL)
            return -1;
    }
    st->s_cmd = PyUnicode_InternFromString("cmd");
    st->s_headers = PyUnicode_InternFromString("headers");
    st->s_original_headers = PyUnicode_InternFromString("original_headers");
    st->s_body = PyUnicode_InternFromString("body");
    st->s_subscription = PyUnicode_InternFromString("subscription");
    st->object_new = PyObject_GetAttrString((PyObject *)&PyBaseObject_Type, "__new__");
    st->empty_tuple = PyTuple_New(0);
    if (!st->s_cmd || !st->s_headers || !st->s_original_headers || !st->s_body
        || !st->s_subscription || !st->object_new || !st->empty_tuple)
        return -1;
    /* What scan() returns and what the module has, for decode.py to refuse a build older
     * than itself. */
    if (PyModule_AddIntConstant(module, "SCAN_VERSION", 6) < 0)
        return -1;
    st->buffer_type = PyType_FromModuleAndSpec(module, &buffer_spec, NULL);
    st->next_type = PyType_FromModuleAndSpec(module, &next_spec, NULL);
    st->message_type = PyType_FromModuleAndSpec(module, &message_spec, NULL);
    if (st->buffer_type == NULL || st->next_type == NULL || st->message_type == NULL)
        return -1;
    if (PyModule_AddObjectRef(module, "BufferBase", st->buffer_type) < 0
        || PyModule_AddObjectRef(module, "MessageBase", st->message_type) < 0)
        return -1;
    PyObject *append = PyUnicode_InternFromString("append");
    PyObject *popleft = PyUnicode_InternFromString("popleft");
    PyObject *next = PyUnicode_InternFromString("_next");
    if (append == NULL || popleft == NULL || next == NULL) {
        Py_XDECREF(append);
        Py_XDECREF(popleft);
        Py_XDECREF(next);
        return -1;
    }
    PyObject *old[4] = {s_append, s_popleft, s_next, next_type_ref};
    s_append = append;
    s_popleft = popleft;
    s_next = next;
    Py_INCREF(st->next_type);
    next_type_ref = st->next_type;
    for (int i = 0; i < 4; i++)
        Py_XDECREF(old[i]);
    return 0;
}

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    module_state *st = get_state(module);
    if (st == NULL)
        return 0;
    for (int i = 0; i < N_COMMANDS; i++)
        Py_VISIT(st->commands[i]);
    Py_VISIT(st->s_cmd);
    Py_VISIT(st->s_headers);
    Py_VISIT(st->s_original_headers);
    Py_VISIT(st->s_body);
    Py_VISIT(st->s_subscription);
    Py_VISIT(st->object_new);
    Py_VISIT(st->empty_tuple);
    Py_VISIT(st->buffer_type);
    Py_VISIT(st->next_type);
    Py_VISIT(st->message_type);
    return 0;
}

static int
module_clear(PyObject *module)
{
    module_state *st = get_state(module);
    if (st == NULL)
        return 0;
    for (int i = 0; i < N_COMMANDS; i++)
        Py_CLEAR(st->commands[i]);
    Py_CLEAR(st->s_cmd);
    Py_CLEAR(st->s_headers);
    Py_CLEAR(st->s_original_headers);
    Py_CLEAR(st->s_body);
    Py_CLEAR(st->s_subscription);
    Py_CLEAR(st->object_new);
    Py_CLEAR(st->empty_tuple);
    Py_CLEAR(st->buffer_type);
    Py_CLEAR(st->next_type);
    Py_CLEAR(st->message_type);
    return 0;
}

static void
module_free(void *module)
{
    module_clear((PyObject *)module);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    "stomp._speedups",
    "The optional C accelerator of stomp.codec.FrameDecoder (internal).",
    sizeof(module_state),
    methods,
    slots,
    module_traverse,
    module_clear,
    module_free,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&moduledef);
}
