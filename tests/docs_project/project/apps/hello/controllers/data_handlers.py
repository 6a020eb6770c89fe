from framework.data_handler.data import Data
from framework.data_handler.fields import TYPE_URL_VAR, Integer, String
from framework.data_handler import validators as v
from framework.data_handler import filters as f


class UserCreationData(Data):
    first_name = String('first_name', processors=[v.Length(max=50)])
    last_name = String('last_name', processors=[v.Length(max=50)])
    email = String('email', processors=[v.EmailAddress()])
    username = String('username', required=True, processors=[v.NotNull(), f.Cut(20)])
    password = String('password')
    password_re = String('password_re')


class UserFilterData(Data):  # filled in: the listings name it and leave it to the developer
    id = Integer('id', field_type=TYPE_URL_VAR, required=True)
