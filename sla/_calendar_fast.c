/* The hot path of sla.calendar.add_working_days, compiled: the same subscripts into the tables that
 * WorkingCalendar.build precomputed (its `_hot_path` slot, see sla/calendar_tables.py), nothing else.
 *
 * Why C: every clock, sweep and recompute asks for due times, and in Python most of a call's cost is
 * the call itself and three attribute reads on the datetime; here they are struct reads. Anything this
 * path does not answer (another time zone, a naive datetime, an N or an instant outside the tables, a
 * wrong argument) goes to the general Python path, which answers or raises exactly as the pure Python
 * version does. tests/sla/test_calendar_accelerator.py holds the two to the same answers and errors.
 *
 * Built by scripts/start and scripts/test (python setup.py build_ext --inplace); without it, sla.calendar
 * uses its Python hot path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>

/* _hot_path = (utc, utc_first_ordinal, due_utc, local_zone, local_first_ordinal, due_local) */
enum { UTC_ZONE, UTC_FIRST_ORDINAL, DUE_UTC, LOCAL_ZONE, LOCAL_FIRST_ORDINAL, DUE_LOCAL, HOT_PATH_SIZE };

static PyObject *general_path = NULL; /* sla.calendar._add_working_days_generally */
static PyObject *hot_path_name = NULL;

static const int days_before_month[13] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

/* date.toordinal() of a valid proleptic Gregorian date (1 January of year 1 is day 1). */
static long
ordinal_of(int year, int month, int day)
{
    long before = year - 1;
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return before * 365 + before / 4 - before / 100 + before / 400 + days_before_month[month] +
           (month > 2 && leap) + day;
}

static PyObject *
answer_generally(PyObject *const *args, Py_ssize_t nargs)
{
    if (general_path == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "sla._calendar_fast.set_general_path() has not been called");
        return NULL;
    }
    return PyObject_Vectorcall(general_path, args, nargs, NULL);
}

/* column[index] as a borrowed reference, or NULL when `column` is not a tuple or index is outside it. */
static PyObject *
item_or_null(PyObject *column, long index)
{
    if (column == NULL || !PyTuple_CheckExact(column) || index < 0 || index >= PyTuple_GET_SIZE(column))
        return NULL;
    return PyTuple_GET_ITEM(column, index);
}

/* A day index: the datetime's ordinal less a first ordinal from the tables (-1 if that is not an int). */
static long
day_index(long ordinal, PyObject *first_ordinal)
{
    long first = PyLong_AsLong(first_ordinal);
    return first == -1 && PyErr_Occurred() ? -1 : ordinal - first;
}

/* The precomputed due time (borrowed), or NULL for "not in the tables": the general path decides. */
static PyObject *
lookup(PyObject *hot, PyObject *start_at, PyObject *working_days)
{
    PyObject *zone = PyDateTime_DATE_GET_TZINFO(start_at);
    long ordinal = ordinal_of(PyDateTime_GET_YEAR(start_at), PyDateTime_GET_MONTH(start_at),
                              PyDateTime_GET_DAY(start_at));
    if (zone == PyTuple_GET_ITEM(hot, UTC_ZONE)) {
        /* Per N, per UTC hour, per UTC day: the hour decides whether Riga is already on the next day. */
        long utc_day = day_index(ordinal, PyTuple_GET_ITEM(hot, UTC_FIRST_ORDINAL));
        PyObject *by_hour = PyDict_GetItemWithError(PyTuple_GET_ITEM(hot, DUE_UTC), working_days);
        return item_or_null(item_or_null(by_hour, PyDateTime_DATE_GET_HOUR(start_at)), utc_day);
    }
    if (zone == PyTuple_GET_ITEM(hot, LOCAL_ZONE)) {
        long local_day = day_index(ordinal, PyTuple_GET_ITEM(hot, LOCAL_FIRST_ORDINAL));
        return item_or_null(PyDict_GetItemWithError(PyTuple_GET_ITEM(hot, DUE_LOCAL), working_days), local_day);
    }
    return NULL;
}

static PyObject *
add_working_days(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    /* Exact datetimes only: a subclass may redefine what its fields mean. */
    if (nargs != 3 || !PyDateTime_CheckExact(args[0]))
        return answer_generally(args, nargs);
    PyObject *hot = PyObject_GetAttr(args[2], hot_path_name);
    if (hot == NULL) {
        PyErr_Clear(); /* not a WorkingCalendar: the general path raises the right error */
        return answer_generally(args, nargs);
    }
    PyObject *due = NULL;
    if (PyTuple_CheckExact(hot) && PyTuple_GET_SIZE(hot) == HOT_PATH_SIZE)
        due = lookup(hot, args[0], args[1]);
    Py_DECREF(hot);
    if (due != NULL)
        return Py_NewRef(due);
    if (PyErr_Occurred())
        return NULL; /* an unhashable N: raised as the Python version raises it */
    return answer_generally(args, nargs); /* a miss: the general path answers or raises */
}

static PyObject *
set_general_path(PyObject *module, PyObject *function)
{
    if (!PyCallable_Check(function)) {
        PyErr_SetString(PyExc_TypeError, "the general path must be callable");
        return NULL;
    }
    Py_XSETREF(general_path, Py_NewRef(function));
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"add_working_days", (PyCFunction)(void (*)(void))add_working_days, METH_FASTCALL,
     "add_working_days(start_at, working_days, calendar, /)\n--\n\n"
     "Due time of \"within N working days\" for something that arrived at start_at (compiled; see "
     "sla.calendar)."},
    {"set_general_path", set_general_path, METH_O,
     "set_general_path(function, /)\n--\n\nWhere add_working_days sends what its tables do not answer."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "sla._calendar_fast", "Compiled hot path of sla.calendar.add_working_days.", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__calendar_fast(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    hot_path_name = PyUnicode_InternFromString("_hot_path");
    if (hot_path_name == NULL)
        return NULL;
    return PyModule_Create(&module);
}
