from framework.data_handler.data import Data
from framework.data_handler.fields import String
from framework.data_handler import validators as v
from framework.data_handler import filters as f


class UserCreationData(Data):
    first_name = String('first_name', processors=[v.Length(max=50)])
    last_name = String('last_name', processors=[v.Length(max=50)])
    username = String('username', required=True, processors=[v.NotNull(), f.Cut(20)])
