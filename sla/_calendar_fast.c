/* The hot path of sla.calendar.add_working_days, compiled: the same subscripts into the tables that
 * WorkingCalendar.build precomputed (its `_hot_path` slot, see sla/calendar_tables.py), nothing else.
 *
 * Why C: every clock, sweep and recompute asks for due times, and in Python most of a call's cost is
 * the call itself and three attribute reads on the datetime; here they are struct reads. Anything this
 * path does not answer (another time zone, a naive datetime, an N or an instant outside the tables, a
 * wrong argument) goes to the pure Python version, which answers or raises as it always does.
 * tests/sla/test_calendar_accelerator.py holds the two to the same answers and errors.
 *
 * Built by scripts/start and scripts/test (python setup.py build_ext --inplace); without it, sla.calendar
 * uses its Python hot path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>

/* _hot_path = (utc, utc_first_ordinal, due_utc, local_zone, local_first_ordinal, due_local) */
enum { UTC_ZONE, UTC_FIRST_ORDINAL, DUE_UTC, LOCAL_ZONE, LOCAL_FIRST_ORDINAL, DUE_LOCAL, HOT_PATH_SIZE };

static PyObject *fallback = NULL; /* sla.calendar.add_working_days_in_python */
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

/* Everything the tables do not answer goes to the Python version itself, which looks again and then
 * answers or raises: so an odd input gets exactly the Python version's answer or error. */
static PyObject *
answer_in_python(PyObject *const *args, Py_ssize_t nargs)
{
    if (fallback == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "sla._calendar_fast.set_fallback() has not been called");
        return NULL;
    }
    return PyObject_Vectorcall(fallback, args, nargs, NULL);
}

/* column[index] as a borrowed reference, or NULL when `column` is not a tuple or index is outside it. */
static PyObject *
item_or_null(PyObject *column, long index)
{
    if (column == NULL || !PyTuple_CheckExact(column) || index < 0 || index >= PyTuple_GET_SIZE(column))
        return NULL;
    return PyTuple_GET_ITEM(column, index);
}

/* The column of tables[N] (borrowed), NULL if absent; NULL with an exception for an unhashable N,
 * which the Python version raises at the same subscript. */
static PyObject *
column_for(PyObject *tables, PyObject *working_days)
{
    return PyDict_CheckExact(tables) ? PyDict_GetItemWithError(tables, working_days) : NULL;
}

/* The precomputed due time (borrowed), or NULL: not in the tables, or an exception is set. */
static PyObject *
lookup(PyObject *hot, PyObject *start_at, PyObject *working_days)
{
    PyObject *zone = PyDateTime_DATE_GET_TZINFO(start_at);
    long ordinal = ordinal_of(PyDateTime_GET_YEAR(start_at), PyDateTime_GET_MONTH(start_at),
                              PyDateTime_GET_DAY(start_at));
    if (zone == PyTuple_GET_ITEM(hot, UTC_ZONE)) {
        /* Per N, per UTC hour, per UTC day: the hour decides whether Riga is already on the next day. */
        long first = PyLong_AsLong(PyTuple_GET_ITEM(hot, UTC_FIRST_ORDINAL));
        if (first == -1 && PyErr_Occurred())
            return NULL;
        if (ordinal < first)
            return NULL; /* before the tables: as in Python, N is not even looked up */
        PyObject *by_hour = column_for(PyTuple_GET_ITEM(hot, DUE_UTC), working_days);
        return item_or_null(item_or_null(by_hour, PyDateTime_DATE_GET_HOUR(start_at)), ordinal - first);
    }
    if (zone == PyTuple_GET_ITEM(hot, LOCAL_ZONE)) {
        long first = PyLong_AsLong(PyTuple_GET_ITEM(hot, LOCAL_FIRST_ORDINAL));
        if (first == -1 && PyErr_Occurred())
            return NULL;
        return item_or_null(column_for(PyTuple_GET_ITEM(hot, DUE_LOCAL), working_days), ordinal - first);
    }
    return NULL;
}

static PyObject *
add_working_days(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    /* Exact datetimes only: a subclass may redefine what its fields mean. */
    if (nargs != 3 || !PyDateTime_CheckExact(args[0]))
        return answer_in_python(args, nargs);
    PyObject *hot = PyObject_GetAttr(args[2], hot_path_name);
    if (hot == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return NULL;
        PyErr_Clear(); /* not a WorkingCalendar: the Python version raises what it raises */
        return answer_in_python(args, nargs);
    }
    PyObject *due = NULL;
    if (PyTuple_CheckExact(hot) && PyTuple_GET_SIZE(hot) == HOT_PATH_SIZE)
        due = lookup(hot, args[0], args[1]);
    /* Own `due` before letting go of `hot`: the tables may be its only owner (a property that builds
     * them afresh, say). */
    Py_XINCREF(due);
    Py_DECREF(hot);
    if (due != NULL)
        return due;
    if (PyErr_Occurred())
        return NULL; /* an unhashable N: raised as the Python version raises it */
    return answer_in_python(args, nargs);
}

static PyObject *
set_fallback(PyObject *module, PyObject *function)
{
    if (!PyCallable_Check(function)) {
        PyErr_SetString(PyExc_TypeError, "the fallback must be callable");
        return NULL;
    }
    Py_XSETREF(fallback, Py_NewRef(function));
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"add_working_days", (PyCFunction)(void (*)(void))add_working_days, METH_FASTCALL,
     "add_working_days(start_at, working_days, calendar, /)\n--\n\n"
     "Due time of \"within N working days\" for something that arrived at start_at (compiled; see "
     "sla.calendar)."},
    {"set_fallback", set_fallback, METH_O,
     "set_fallback(function, /)\n--\n\nThe Python version, which answers what the tables do not."},
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
